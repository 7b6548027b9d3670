//! Compiles the XDP program (`bpf/ferrite.bpf.c`) with clang into `$OUT_DIR/ferrite.bpf.o`, which
//! `xdp.rs` embeds and loads with libbpf-rs.

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    let manifest =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let source = manifest.join("../bpf/ferrite.bpf.c");
    let out =
        PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("ferrite.bpf.o");
    println!("cargo:rerun-if-changed={}", source.display());
    let clang = env::var("CLANG").unwrap_or_else(|_| "clang".to_string());
    let arch_include = format!("/usr/include/{}-linux-gnu", env::consts::ARCH);
    let status = Command::new(&clang)
        .args(["-O2", "-g", "-Wall", "-Werror", "-target", "bpf"])
        .arg(format!("-I{arch_include}"))
        .arg("-c")
        .arg(&source)
        .arg("-o")
        .arg(&out)
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => panic!("{clang} failed to compile {} ({s})", source.display()),
        Err(e) => panic!(
            "cannot run {clang} to compile the XDP program ({e}): install clang and libbpf-dev \
             (scripts/deps.sh does), or set CLANG"
        ),
    }
}
