// node:assert/strict for the browser run: the npm port of Node's assert, in strict mode.
import assert from 'assert';

export default assert.strict;
