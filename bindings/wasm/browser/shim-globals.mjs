// Node globals, injected by esbuild wherever bundled code names them (not set on window).
// The suite builds byte inputs with Buffer.from / Buffer.alloc.
export { Buffer } from 'buffer';
// The npm assert package reads process.stderr (and util reads process.env) when it builds an
// AssertionError; a process without a TTY gives plain, uncoloured messages.
export const process = { env: {} };
