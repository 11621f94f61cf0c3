//! Exposes the interpreter cfgs (`Py_LIMITED_API`, `Py_3_11`, …) to this crate, and
//! `buffer_protocol` where the `pyo3::buffer` API exists: without the limited API, or with the
//! stable ABI of Python 3.11 or later (the buffer protocol entered it in 3.11). `pyo3` gates
//! its `buffer` module on exactly this condition.

fn main() {
    pyo3_build_config::use_pyo3_cfgs();
    println!("cargo:rustc-check-cfg=cfg(buffer_protocol)");
    // The same cfgs `use_pyo3_cfgs` printed above, so the condition is pyo3's own.
    let cfgs = pyo3_build_config::get().build_script_outputs();
    let set = |name: &str| cfgs.iter().any(|line| line.strip_prefix("cargo:rustc-cfg=") == Some(name));
    if !set("Py_LIMITED_API") || set("Py_3_11") {
        println!("cargo:rustc-cfg=buffer_protocol");
    }
}
