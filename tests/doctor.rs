//! `ferrite doctor`: each check through the real binary.

mod common;

use std::net::TcpListener;
use std::process::{Command, Output};
use std::time::Duration;

use common::{ferrite_bin, free_port, run_bounded, scratch_dir};

fn doctor(config: &str, json: bool) -> Output {
    let path = scratch_dir().join("ferrite.toml");
    std::fs::write(&path, config).expect("write config");
    let mut cmd = Command::new(ferrite_bin());
    cmd.arg("doctor").arg("--config").arg(&path);
    if json {
        cmd.arg("--json");
    }
    run_bounded(&mut cmd, Duration::from_secs(30))
}

fn config_with_ports(server: u16, metrics: u16) -> String {
    format!("[server]\nport = {server}\n\n[metrics]\nport = {metrics}\n")
}

#[test]
fn a_good_config_on_this_machine_passes() {
    let out = doctor(&config_with_ports(free_port(), free_port()), false);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.lines().any(|l| l.starts_with("PASS  config")),
        "{text}"
    );
    for name in [
        "server port",
        "metrics port",
        "kernel",
        "cores",
        "transparent huge pages",
        "vm.overcommit_memory",
        "open files",
    ] {
        assert!(text.contains(name), "check {name} missing:\n{text}");
    }
    assert!(!text.contains("FAIL"), "{text}");
}

#[test]
fn an_unknown_key_fails_naming_it() {
    let out = doctor("[server]\nprot = 7000\n", false);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{text}");
    let line = text
        .lines()
        .find(|l| l.starts_with("FAIL  config"))
        .expect("a failed config check");
    assert!(text.contains("unknown field `prot`"), "{line}\n{text}");
}

#[test]
fn a_busy_port_fails() {
    let busy = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = busy.local_addr().expect("addr").port();
    let out = doctor(&config_with_ports(port, free_port()), false);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("FAIL  server port") && l.contains(&port.to_string())),
        "{text}"
    );
    drop(busy);
}

#[test]
fn json_output_lists_every_check() {
    let out = doctor(&config_with_ports(free_port(), 0), true);
    assert!(out.status.success());
    let checks: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let checks = checks.as_array().expect("an array");
    assert!(checks.len() >= 6);
    for c in checks {
        assert!(
            ["PASS", "WARN", "FAIL"].contains(&c["status"].as_str().unwrap_or("")),
            "{c}"
        );
        assert!(c["name"].is_string() && c["detail"].is_string(), "{c}");
    }
    // Metrics turned off: no metrics port check.
    assert!(!checks.iter().any(|c| c["name"] == "metrics port"));
}
