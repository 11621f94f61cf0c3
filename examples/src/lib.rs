//! Example data helpers (none yet).
