//! Exposes the interpreter cfgs (`Py_LIMITED_API`, `Py_3_11`, …) to this crate, so the
//! buffer-protocol path is compiled only for ABIs that have the buffer protocol.

fn main() {
    pyo3_build_config::use_pyo3_cfgs();
}
