//! The command-line examples as a user runs them: the built `check_helo` binary, its output, its
//! exit status. (`cargo test` builds the examples before it runs the tests.)

mod common;

use common::dns_server::BlackHole;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The built example `name`, next to this test's own binary (`target/<profile>/examples/`).
fn example(name: &str) -> Command {
    let deps = std::env::current_exe().expect("the test binary's path");
    let profile = deps
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps");
    let path: PathBuf = profile.join("examples").join(name);
    assert!(
        path.exists(),
        "{} is not built: run the tests with `cargo test`, which builds the examples",
        path.display()
    );
    Command::new(path)
}

#[test]
fn a_reader_that_goes_away_ends_the_example_quietly() {
    // `check_helo | head -1`: the reader closes the pipe before the example is done writing.
    let mut child = example("check_helo")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
    assert!(status.success(), "{status}; stderr: {stderr}");
}

#[tokio::test]
async fn an_unreachable_name_server_is_reported_as_a_timeout_with_progress() {
    let server = BlackHole::start().await;
    let output = tokio::task::spawn_blocking(move || {
        example("check_helo")
            .args(["--helo", "mail.example.com", "--ip", "192.0.2.10"])
            .args(["--mail-from", "alice@example.com", "--timeout", "1"])
            .args(["--nameserver", &server.addr().to_string()])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    // What was waited for, on standard error, stage by stage.
    for stage in [
        "iprev",
        "HELO mail.example.com",
        "MAIL FROM alice@example.com",
    ] {
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with("  ... ") && l.contains(stage)),
            "no progress line for {stage}: {stderr}"
        );
    }
    // Each check that got no answer says it timed out, not "no lookups" or "resolves to []".
    for check in ["iprev", "HELO exists", "HELO confirm"] {
        let line = stdout
            .lines()
            .find(|l| l.trim_start().starts_with(check))
            .unwrap_or_else(|| panic!("no {check} line: {stdout}"));
        assert!(line.contains("temperror: "), "{line}");
        assert!(line.contains("timed out"), "{line}");
    }
    assert!(!stdout.contains("no lookups"), "{stdout}");
    assert!(!stdout.contains("resolves to []"), "{stdout}");
    assert!(stdout.contains("SPF evaluation timed out"), "{stdout}");
}

#[test]
fn a_bind_zone_file_is_refused_with_a_pointer_to_the_format() {
    let dir = std::env::temp_dir().join(format!("check-helo-zone-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let zone = dir.join("bind.zone");
    std::fs::write(
        &zone,
        "$ORIGIN example.org.\n$TTL 3600\n@ IN TXT \"v=spf1 -all\"\n",
    )
    .unwrap();
    let output = example("check_helo")
        .args(["--helo", "mx.example.org", "--ip", "192.0.2.1"])
        .arg("--zone")
        .arg(&zone)
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("line 1"), "{stderr}");
    assert!(stderr.contains("not a BIND zone file"), "{stderr}");
    assert!(stderr.contains("ZoneResolver"), "{stderr}");
}

#[test]
fn a_refused_helo_says_why() {
    let output = example("check_helo")
        .args(["--helo", "mail.example.com.", "--ip", "192.0.2.10"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    let syntax = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("HELO syntax"))
        .unwrap_or_else(|| panic!("no HELO syntax line: {stdout}"));
    assert!(syntax.contains("refused"), "{syntax}");
    assert!(syntax.contains("trailing dot"), "{syntax}");
    // The session's reason (what a server logs) says it too.
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("why") && l.contains("refused") && l.contains("trailing dot")),
        "{stdout}"
    );
}
