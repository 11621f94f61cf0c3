//! Helpers shared by the examples: bundled data, the exit status, and running the
//! `MemoryStore`'s futures.

use std::process::ExitCode;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data");

/// A file of `examples/data`.
pub(crate) fn read(name: &str) -> Result<String, String> {
    std::fs::read_to_string(format!("{DATA}/{name}")).map_err(|e| format!("{name}: {e}"))
}

/// Runs an example's body: success, or the error on stderr and a failure status.
pub(crate) fn exit(result: Result<(), String>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Runs a future that is ready at once (the `MemoryStore`'s); a host would use its runtime.
#[allow(dead_code)] // not every example talks to a store
pub(crate) fn block_on<F: std::future::Future>(f: F) -> F::Output {
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    let mut f = std::pin::pin!(f);
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}
