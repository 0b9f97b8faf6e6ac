//! The open-spf RFC 7208 and RFC 4408 conformance suites, run through the in-memory resolver.
//!
//! The suites live in `../shared/spf-suites/` (never copied into the project). The driver follows the
//! rules in that folder's README: multi-document YAML; zone data turned into zone text for
//! [`ZoneResolver`]; `SPF` records served as TXT unless the name lists TXT itself; `TIMEOUT` makes the
//! name's other types time out; the default explanation is the literal `DEFAULT`. Explanations are
//! compared ignoring ASCII case (the suite writes `%{ir}` nibbles of one IPv6 case in upper case,
//! RFC 7208 §7.4 in lower case).
//!
//! When the suites are missing the test fails under CI (`CI` set) and is skipped otherwise.

use sender_identity::dns::ZoneResolver;
use sender_identity::spf::{Config, SpfResult, Verifier};
use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::PathBuf;
use yaml_rust2::{Yaml, YamlLoader};

fn suite_path(file: &str) -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/spf-suites")
        .join(file);
    if path.exists() {
        return Some(path);
    }
    if std::env::var_os("CI").is_some() {
        panic!("conformance suite {} is missing under CI", path.display());
    }
    eprintln!("skipped: {} not found", path.display());
    None
}

/// Quotes one character-string for zone text.
fn quote(s: &str, out: &mut String) {
    out.push('"');
    for b in s.bytes() {
        match b {
            b'"' | b'\\' => {
                out.push('\\');
                out.push(b as char);
            }
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\{b:03}");
            }
        }
    }
    out.push('"');
}

fn scalar(y: &Yaml) -> String {
    match y {
        Yaml::String(s) | Yaml::Real(s) => s.clone(),
        Yaml::Integer(i) => i.to_string(),
        Yaml::Boolean(b) => b.to_string(),
        other => panic!("unexpected YAML value {other:?}"),
    }
}

/// The TXT character-strings of a `TXT` / `SPF` value: a string is one, a list is several.
fn strings(y: &Yaml) -> Vec<String> {
    match y {
        Yaml::Array(items) => items.iter().map(scalar).collect(),
        other => vec![scalar(other)],
    }
}

/// Turns one document's `zonedata` into zone text.
fn zone_text(zonedata: &Yaml) -> String {
    let mut text = String::new();
    let Some(names) = zonedata.as_hash() else {
        return text;
    };
    for (owner, records) in names {
        let mut name = String::new();
        quote(&scalar(owner), &mut name);
        let records = records.as_vec().cloned().unwrap_or_default();
        let lists_txt = records.iter().any(|r| {
            r.as_hash()
                .is_some_and(|h| h.contains_key(&Yaml::String("TXT".into())))
        });
        for record in &records {
            if record.as_str() == Some("TIMEOUT") {
                let _ = writeln!(text, "{name} TIMEOUT");
                continue;
            }
            let hash = record
                .as_hash()
                .unwrap_or_else(|| panic!("odd record {record:?}"));
            for (rtype, value) in hash {
                let rtype = scalar(rtype);
                match rtype.as_str() {
                    "SPF" | "TXT" => {
                        if (rtype == "SPF" && lists_txt) || value.as_str() == Some("NONE") {
                            continue;
                        }
                        let _ = write!(text, "{name} TXT");
                        for s in strings(value) {
                            text.push(' ');
                            quote(&s, &mut text);
                        }
                        text.push('\n');
                    }
                    "MX" => {
                        let v = value.as_vec().expect("MX is [pref, host]");
                        let _ = write!(text, "{name} MX {} ", scalar(&v[0]));
                        quote(&scalar(&v[1]), &mut text);
                        text.push('\n');
                    }
                    "A" | "AAAA" | "PTR" | "CNAME" => {
                        let _ = writeln!(text, "{name} {rtype} {}", scalar(value));
                    }
                    other => panic!("unknown record type {other}"),
                }
            }
        }
    }
    text
}

struct Counts {
    passed: usize,
    failed: Vec<String>,
    explanations_checked: usize,
}

async fn run_suite(file: &str, awaited: bool) -> Option<Counts> {
    let path = suite_path(file)?;
    let text = std::fs::read_to_string(&path).expect("read suite");
    let docs = YamlLoader::load_from_str(&text).expect("parse suite YAML");
    let mut counts = Counts {
        passed: 0,
        failed: Vec::new(),
        explanations_checked: 0,
    };
    let mut config = Config::default();
    config.default_explanation = "DEFAULT".into();
    for doc in &docs {
        let mut zone: ZoneResolver = zone_text(&doc["zonedata"])
            .parse()
            .unwrap_or_else(|e| panic!("{file}: zone text: {e}"));
        // Awaited: every answer takes the path of a network resolver (stop, await, run again).
        zone.set_awaited_only(awaited);
        let spf = Verifier::with_config(&zone, config.clone());
        let tests = doc["tests"].as_hash().expect("tests");
        for (name, test) in tests {
            let name = scalar(name);
            let ip: IpAddr = scalar(&test["host"]).parse().expect("host");
            let helo = scalar(&test["helo"]);
            let mail_from = match &test["mailfrom"] {
                Yaml::BadValue | Yaml::Null => String::new(),
                v => scalar(v),
            };
            let expected: Vec<SpfResult> = strings(&test["result"])
                .iter()
                .map(|r| r.parse().unwrap_or_else(|_| panic!("{name}: result {r}")))
                .collect();
            let out = if mail_from.is_empty() {
                spf.check_helo(ip, &helo).await
            } else {
                spf.check_mail_from(ip, &helo, &mail_from).await
            };
            let mut problems = Vec::new();
            if !expected.contains(&out.result) {
                problems.push(format!(
                    "result {} (expected {expected:?}; {})",
                    out.result, out.cause
                ));
            }
            if let Some(exp) = test["explanation"].as_str() {
                counts.explanations_checked += 1;
                if !out
                    .explanation
                    .as_deref()
                    .is_some_and(|e| e.eq_ignore_ascii_case(exp))
                {
                    problems.push(format!(
                        "explanation {:?} (expected {exp:?})",
                        out.explanation
                    ));
                }
            }
            if problems.is_empty() {
                counts.passed += 1;
            } else {
                counts
                    .failed
                    .push(format!("{name}: {}", problems.join("; ")));
            }
        }
    }
    Some(counts)
}

async fn check(file: &str, expected_total: usize, awaited: bool) {
    let Some(counts) = run_suite(file, awaited).await else {
        return;
    };
    let total = counts.passed + counts.failed.len();
    println!(
        "{file}{}: {}/{total} passed ({} explanations checked)",
        if awaited {
            " (every answer awaited)"
        } else {
            ""
        },
        counts.passed,
        counts.explanations_checked
    );
    for f in &counts.failed {
        println!("  FAILED {f}");
    }
    assert_eq!(total, expected_total, "{file}: test count");
    assert!(
        counts.failed.is_empty(),
        "{file}: {} failures",
        counts.failed.len()
    );
}

#[tokio::test]
async fn rfc7208_suite() {
    check("rfc7208-tests.yml", 203, false).await;
}

#[tokio::test]
async fn rfc4408_suite() {
    check("rfc4408-tests.yml", 191, false).await;
}

#[tokio::test]
async fn rfc7208_suite_every_answer_awaited() {
    check("rfc7208-tests.yml", 203, true).await;
}

#[tokio::test]
async fn rfc4408_suite_every_answer_awaited() {
    check("rfc4408-tests.yml", 191, true).await;
}
