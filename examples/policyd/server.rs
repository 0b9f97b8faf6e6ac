//! The policy server of the `policyd` example: its configuration file, the Postfix policy
//! delegation protocol (SMTPD_POLICY_README), the SPF decision per message and the TCP / UNIX
//! socket server.
//!
//! This file is included by `examples/policyd/main.rs` and, with `#[path]`, by the integration
//! tests, so that they run the server in-process.

use sender_identity::dns::{HickoryResolver, Resolver};
use sender_identity::headers::{AuthenticationResults, MethodResult, ReceivedSpf};
use sender_identity::relay::NetList;
use sender_identity::spf::{self, Identity, RecordCache, SpfOutput, SpfResult, Verifier};
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::{Semaphore, watch};
use tokio::time::Instant;

/// The longest request line accepted (bytes, newline included).
pub const MAX_LINE: usize = 8 * 1024;
/// The most attributes accepted in one request.
pub const MAX_ATTRIBUTES: usize = 64;
/// The longest reject or defer text (bytes, code included) policyd hands Postfix: an SMTP reply
/// line is at most 512 octets with its CRLF (RFC 5321 §4.5.3.1.5). Postfix puts its own words in
/// front (`<rcpt>: Recipient address rejected: `), and cuts or wraps the line it sends as it sees
/// fit; this bound keeps policyd's part within one line, not the final reply.
pub const MAX_REPLY: usize = 510;

// ------------------------------------------------------------------------------------------------
// Configuration

/// When to reject for an identity (pypolicyd-spf `HELO_reject` / `Mail_From_reject`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectLevel {
    /// Reject on fail.
    Fail,
    /// Reject on fail and softfail.
    Softfail,
    /// Reject on fail, softfail and neutral.
    SpfNotPass,
    /// HELO only: reject a HELO fail only for the null sender.
    Null,
    /// Never reject or defer; header only.
    False,
    /// Do not check this identity.
    NoCheck,
}

impl RejectLevel {
    /// The option value, as the configuration file writes it.
    pub fn name(self) -> &'static str {
        match self {
            RejectLevel::Fail => "Fail",
            RejectLevel::Softfail => "Softfail",
            RejectLevel::SpfNotPass => "SPF_Not_Pass",
            RejectLevel::Null => "Null",
            RejectLevel::False => "False",
            RejectLevel::NoCheck => "No_Check",
        }
    }
}

/// Which header is prepended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderType {
    /// `Received-SPF`.
    Spf,
    /// `Authentication-Results`.
    Ar,
    /// Both: `Received-SPF` at the first request of a message, `Authentication-Results` at the
    /// next one (a second recipient, or DATA with `smtpd_data_restrictions`).
    Both,
    /// No header.
    None,
}

/// How a temperror is deferred.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeferReply {
    /// `DEFER_IF_PERMIT ...`: defer unless a later restriction rejects.
    DeferIfPermit,
    /// `450 ...`: defer at once.
    Code450,
}

/// Which DNS servers to ask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Nameserver {
    /// `/etc/resolv.conf`.
    System,
    /// These servers (`IP:PORT`).
    Addrs(Vec<SocketAddr>),
}

/// The server's configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// `HELO_reject` (default `Fail`).
    pub helo_reject: RejectLevel,
    /// `Mail_From_reject` (default `Fail`).
    pub mail_from_reject: RejectLevel,
    /// `PermError_reject` (default `False`).
    pub permerror_reject: bool,
    /// `TempError_Defer` (default `False`).
    pub temperror_defer: bool,
    /// `Defer_Reply`: `DEFER_IF_PERMIT` (default) or `450`.
    pub defer_reply: DeferReply,
    /// `SPF_Enhanced_Status_Codes` (default `Yes`).
    pub enhanced_codes: bool,
    /// `TestOnly` (default 1; 0 = never reject or defer, only prepend).
    pub test_only: bool,
    /// `skip_addresses` (default `127.0.0.0/8,::ffff:127.0.0.0/104,::1`).
    pub skip_addresses: NetList,
    /// `Whitelist` (default empty).
    pub whitelist: NetList,
    /// `Header_Type` (default `SPF`).
    pub header_type: HeaderType,
    /// `Authserv_Id` (default `HOSTNAME`, the host name): the receiver name in headers.
    pub authserv_id: String,
    /// `Nameserver` (default `system`).
    pub nameserver: Nameserver,
    /// `DNS_Timeout` seconds per query try (default 5).
    pub dns_timeout: Duration,
    /// `Lookup_Time` seconds for all the checks of one message together, HELO and MAIL FROM
    /// (default 20): every request is answered within this time of being read.
    pub lookup_time: Duration,
    /// `Void_Limit` (default 2).
    pub void_limit: u32,
    /// `Record_Cache` parsed SPF records kept (default 10000; 0 turns the cache off).
    pub record_cache: usize,
    /// `Listen` TCP address (default `127.0.0.1:10023`, unless `Unix_Socket` alone is given).
    pub listen: Option<SocketAddr>,
    /// `Unix_Socket` path.
    pub unix: Option<PathBuf>,
    /// `Max_Connections` at once (default 512).
    pub max_connections: usize,
    /// `Idle_Timeout` seconds (default 600): a connection is closed when no complete request
    /// arrived within this time of its start or of the last reply (blank lines and partial requests
    /// do not count).
    pub idle_timeout: Duration,
    /// `debugLevel` (default 1): 0 errors only, 1 one line per decision, 2 every request.
    pub debug_level: u8,
}

/// A configuration error: the line (from 1; 0 for the command line) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The line, from 1 (0: not from the file).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            0 => f.write_str(&self.message),
            n => write!(f, "line {n}: {}", self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

const DEFAULT_SKIP: &str = "127.0.0.0/8,::ffff:127.0.0.0/104,::1";
const DEFAULT_LISTEN: &str = "127.0.0.1:10023";

impl Default for Config {
    fn default() -> Self {
        Config {
            helo_reject: RejectLevel::Fail,
            mail_from_reject: RejectLevel::Fail,
            permerror_reject: false,
            temperror_defer: false,
            defer_reply: DeferReply::DeferIfPermit,
            enhanced_codes: true,
            test_only: false,
            skip_addresses: NetList::parse(DEFAULT_SKIP).expect("default skip list"),
            whitelist: NetList::default(),
            header_type: HeaderType::Spf,
            authserv_id: host_name(),
            nameserver: Nameserver::System,
            dns_timeout: Duration::from_secs(5),
            lookup_time: Duration::from_secs(20),
            void_limit: 2,
            record_cache: 10_000,
            listen: None,
            unix: None,
            max_connections: 512,
            idle_timeout: Duration::from_secs(600),
            debug_level: 1,
        }
    }
}

/// The host name (`/proc/sys/kernel/hostname`, then `/etc/hostname`), or `localhost`.
fn host_name() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .map(|s| s.trim().to_string())
        .find(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

fn parse_bool(value: &str) -> Result<bool, String> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" | "on" => Ok(true),
        "false" | "no" | "0" | "off" => Ok(false),
        _ => Err(format!("expected True or False, got {value:?}")),
    }
}

fn parse_level(value: &str, helo: bool) -> Result<RejectLevel, String> {
    Ok(match value.to_ascii_lowercase().as_str() {
        "fail" => RejectLevel::Fail,
        "softfail" => RejectLevel::Softfail,
        "spf_not_pass" => RejectLevel::SpfNotPass,
        "null" if helo => RejectLevel::Null,
        "false" => RejectLevel::False,
        "no_check" => RejectLevel::NoCheck,
        _ => {
            let allowed = if helo {
                "Fail, Softfail, SPF_Not_Pass, Null, False or No_Check"
            } else {
                "Fail, Softfail, SPF_Not_Pass, False or No_Check"
            };
            return Err(format!("expected {allowed}, got {value:?}"));
        }
    })
}

fn parse_seconds(value: &str) -> Result<Duration, String> {
    match value.parse::<u64>() {
        Ok(n) if (1..=3600).contains(&n) => Ok(Duration::from_secs(n)),
        _ => Err(format!("expected seconds from 1 to 3600, got {value:?}")),
    }
}

fn parse_socket_addr(value: &str) -> Result<SocketAddr, String> {
    value
        .parse()
        .map_err(|_| format!("expected IP:PORT (e.g. 127.0.0.1:53 or [::1]:53), got {value:?}"))
}

/// Parses `system` or a list of `IP:PORT` separated by commas or spaces.
pub fn parse_nameserver(value: &str) -> Result<Nameserver, String> {
    if value.eq_ignore_ascii_case("system") {
        return Ok(Nameserver::System);
    }
    let addrs = value
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(parse_socket_addr)
        .collect::<Result<Vec<_>, _>>()?;
    if addrs.is_empty() {
        return Err("expected system or IP:PORT".into());
    }
    Ok(Nameserver::Addrs(addrs))
}

/// `value` without a trailing comment: from a `#` at its start or after whitespace.
fn strip_comment(value: &str) -> &str {
    let start = value
        .char_indices()
        .find(|&(i, c)| c == '#' && (i == 0 || value[..i].ends_with(char::is_whitespace)))
        .map_or(value.len(), |(i, _)| i);
    value[..start].trim()
}

fn parse_netlist(value: &str) -> Result<NetList, String> {
    NetList::parse(value).map_err(|e| e.to_string())
}

impl Config {
    /// Parses configuration text: `Name = value` lines. `#` starts a comment at the start of a
    /// line or after whitespace (`Name = value   # comment`); no option's value holds `#` after a
    /// space, and a `#` inside a word stays part of it (a socket path may have one). Names are
    /// matched without regard to case. An unknown name, a bad value or a name given twice is an
    /// error, with its line; nothing of a refused file is used.
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        let mut config = Config::default();
        let mut seen: Vec<String> = Vec::new();
        let mut authserv_id = None;
        for (n, raw) in text.lines().enumerate() {
            let line = n + 1;
            let err = |message: String| ConfigError { line, message };
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let Some((name, value)) = trimmed.split_once('=') else {
                return Err(err(format!("expected Name = value, got {trimmed:?}")));
            };
            let (name, value) = (name.trim(), strip_comment(value));
            let key = name.to_ascii_lowercase();
            if seen.contains(&key) {
                return Err(err(format!("{name} is set twice")));
            }
            seen.push(key.clone());
            let result: Result<(), String> = (|| {
                match key.as_str() {
                    "helo_reject" => config.helo_reject = parse_level(value, true)?,
                    "mail_from_reject" => config.mail_from_reject = parse_level(value, false)?,
                    "permerror_reject" => config.permerror_reject = parse_bool(value)?,
                    "temperror_defer" => config.temperror_defer = parse_bool(value)?,
                    "defer_reply" => {
                        config.defer_reply = match value.to_ascii_lowercase().as_str() {
                            "defer_if_permit" => DeferReply::DeferIfPermit,
                            "450" => DeferReply::Code450,
                            _ => {
                                return Err(format!(
                                    "expected DEFER_IF_PERMIT or 450, got {value:?}"
                                ));
                            }
                        }
                    }
                    "spf_enhanced_status_codes" => config.enhanced_codes = parse_bool(value)?,
                    "testonly" => config.test_only = !parse_bool(value)?,
                    "skip_addresses" => config.skip_addresses = parse_netlist(value)?,
                    "whitelist" => config.whitelist = parse_netlist(value)?,
                    "header_type" => {
                        config.header_type = match value.to_ascii_lowercase().as_str() {
                            "spf" => HeaderType::Spf,
                            "ar" => HeaderType::Ar,
                            "both" => HeaderType::Both,
                            "none" => HeaderType::None,
                            _ => {
                                return Err(format!(
                                    "expected SPF, AR, Both or None, got {value:?}"
                                ));
                            }
                        }
                    }
                    "authserv_id" => {
                        if value.is_empty()
                            || !value
                                .bytes()
                                .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
                        {
                            return Err(format!("expected a host name or HOSTNAME, got {value:?}"));
                        }
                        authserv_id = Some(value.to_string());
                    }
                    "nameserver" => config.nameserver = parse_nameserver(value)?,
                    "dns_timeout" => config.dns_timeout = parse_seconds(value)?,
                    "lookup_time" => config.lookup_time = parse_seconds(value)?,
                    "void_limit" => {
                        config.void_limit = value
                            .parse()
                            .ok()
                            .filter(|n| (1..=100).contains(n))
                            .ok_or_else(|| format!("expected 1 to 100, got {value:?}"))?
                    }
                    "record_cache" => {
                        config.record_cache = value
                            .parse()
                            .ok()
                            .filter(|n| *n <= 10_000_000)
                            .ok_or_else(|| format!("expected 0 to 10000000, got {value:?}"))?
                    }
                    "listen" => config.listen = Some(parse_socket_addr(value)?),
                    "unix_socket" => {
                        if value.is_empty() {
                            return Err("expected a path".into());
                        }
                        config.unix = Some(PathBuf::from(value));
                    }
                    "max_connections" => {
                        config.max_connections = value
                            .parse()
                            .ok()
                            .filter(|n| (1..=100_000).contains(n))
                            .ok_or_else(|| format!("expected 1 to 100000, got {value:?}"))?
                    }
                    "idle_timeout" => config.idle_timeout = parse_seconds(value)?,
                    "debuglevel" => {
                        config.debug_level = match value.parse::<i8>() {
                            Ok(n) if (-1..=5).contains(&n) => n.max(0) as u8,
                            _ => return Err(format!("expected -1 to 5, got {value:?}")),
                        }
                    }
                    _ => return Err(format!("unknown option {name:?}")),
                }
                Ok(())
            })();
            result.map_err(|m| err(format!("{name}: {m}")))?;
        }
        if let Some(id) = authserv_id
            && id != "HOSTNAME"
        {
            config.authserv_id = id;
        }
        Ok(config)
    }

    /// The effective configuration, one `Name = value` line per option (a network list as its
    /// entries), in a form [`Config::parse`] reads back to the same configuration. Options that are
    /// off are comment lines. This is what `--check-config` prints.
    pub fn summary(&self) -> String {
        fn yes(b: bool) -> &'static str {
            if b { "True" } else { "False" }
        }
        fn list(l: &NetList) -> String {
            let entries: Vec<String> = l.entries().iter().map(|e| e.to_string()).collect();
            entries.join(", ")
        }
        let nameserver = match &self.nameserver {
            Nameserver::System => "system".to_string(),
            Nameserver::Addrs(addrs) => {
                let addrs: Vec<String> = addrs.iter().map(|a| a.to_string()).collect();
                addrs.join(", ")
            }
        };
        let mut lines = vec![
            format!("HELO_reject = {}", self.helo_reject.name()),
            format!("Mail_From_reject = {}", self.mail_from_reject.name()),
            format!("PermError_reject = {}", yes(self.permerror_reject)),
            format!("TempError_Defer = {}", yes(self.temperror_defer)),
            format!(
                "Defer_Reply = {}",
                match self.defer_reply {
                    DeferReply::DeferIfPermit => "DEFER_IF_PERMIT",
                    DeferReply::Code450 => "450",
                }
            ),
            format!("SPF_Enhanced_Status_Codes = {}", yes(self.enhanced_codes)),
            format!("TestOnly = {}", if self.test_only { 0 } else { 1 }),
            format!("skip_addresses = {}", list(&self.skip_addresses)),
            format!("Whitelist = {}", list(&self.whitelist)),
            format!(
                "Header_Type = {}",
                match self.header_type {
                    HeaderType::Spf => "SPF",
                    HeaderType::Ar => "AR",
                    HeaderType::Both => "Both",
                    HeaderType::None => "None",
                }
            ),
            format!("Authserv_Id = {}", self.authserv_id),
            format!("Nameserver = {nameserver}"),
            format!("DNS_Timeout = {}", self.dns_timeout.as_secs()),
            format!("Lookup_Time = {}", self.lookup_time.as_secs()),
            format!("Void_Limit = {}", self.void_limit),
            format!("Record_Cache = {}", self.record_cache),
        ];
        lines.push(match self.tcp_listen() {
            Some(addr) => format!("Listen = {addr}"),
            None => "# Listen: off (Unix_Socket only)".to_string(),
        });
        lines.push(match &self.unix {
            Some(path) => format!("Unix_Socket = {}", path.display()),
            None => "# Unix_Socket: off".to_string(),
        });
        lines.push(format!("Max_Connections = {}", self.max_connections));
        lines.push(format!("Idle_Timeout = {}", self.idle_timeout.as_secs()));
        lines.push(format!("debugLevel = {}", self.debug_level));
        lines.join("\n") + "\n"
    }

    /// The TCP address to listen on: `Listen`, or the default when no UNIX socket is set.
    pub fn tcp_listen(&self) -> Option<SocketAddr> {
        match (self.listen, &self.unix) {
            (Some(addr), _) => Some(addr),
            (None, None) => Some(DEFAULT_LISTEN.parse().expect("default listen address")),
            (None, Some(_)) => None,
        }
    }
}

/// The resolver the configuration asks for.
pub fn build_resolver(config: &Config) -> Result<HickoryResolver, String> {
    let builder = match &config.nameserver {
        Nameserver::System => sender_identity::dns::HickoryResolverBuilder::from_system_conf()
            .map_err(|e| e.to_string())?,
        Nameserver::Addrs(addrs) => HickoryResolver::builder().name_servers(addrs),
    };
    builder
        .timeout(config.dns_timeout)
        .build()
        .map_err(|e| e.to_string())
}

// ------------------------------------------------------------------------------------------------
// Protocol

/// Why a request could not be read. Every one of these ends the connection without a reply, as
/// SMTPD_POLICY_README asks ("In case of trouble the policy server must not send a reply").
#[derive(Debug)]
pub enum ProtocolError {
    /// A line longer than [`MAX_LINE`].
    LineTooLong,
    /// More than [`MAX_ATTRIBUTES`] attributes.
    TooManyAttributes,
    /// A line without `=`, with an empty name, a NUL, or not UTF-8.
    BadLine(String),
    /// The client closed the connection in the middle of a request.
    Truncated,
    /// No complete request within the idle timeout.
    Idle,
    /// A socket error.
    Io(std::io::Error),
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolError::LineTooLong => write!(f, "request line longer than {MAX_LINE} bytes"),
            ProtocolError::TooManyAttributes => {
                write!(f, "request with more than {MAX_ATTRIBUTES} attributes")
            }
            ProtocolError::BadLine(why) => write!(f, "malformed request line: {why}"),
            ProtocolError::Truncated => {
                f.write_str("client disconnected in the middle of a request")
            }
            ProtocolError::Idle => f.write_str("idle timeout"),
            ProtocolError::Io(e) => write!(f, "read error: {e}"),
        }
    }
}

/// One policy request: its attributes in order (the first of duplicates wins on lookup).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// `(name, value)` pairs.
    pub attributes: Vec<(String, String)>,
}

impl Request {
    /// The value of `name`, if sent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Parses one `name=value` line (without its newline) into the request.
    pub fn push_line(&mut self, line: &[u8]) -> Result<(), ProtocolError> {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.contains(&0) {
            return Err(ProtocolError::BadLine("NUL byte".into()));
        }
        let text =
            std::str::from_utf8(line).map_err(|_| ProtocolError::BadLine("not UTF-8".into()))?;
        let Some((name, value)) = text.split_once('=') else {
            return Err(ProtocolError::BadLine(format!(
                "no '=' in {:?}",
                shorten(text, 60)
            )));
        };
        if name.is_empty() {
            return Err(ProtocolError::BadLine("empty attribute name".into()));
        }
        if self.attributes.len() >= MAX_ATTRIBUTES {
            return Err(ProtocolError::TooManyAttributes);
        }
        self.attributes.push((name.to_string(), value.to_string()));
        Ok(())
    }
}

fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}...", &text[..i]),
        None => text.to_string(),
    }
}

/// Reads one line into `buf` (without the newline), at most [`MAX_LINE`] bytes. `Ok(false)` at a
/// clean end of input (nothing read).
pub async fn read_line<S: AsyncBufRead + Unpin>(
    reader: &mut S,
    buf: &mut Vec<u8>,
) -> Result<bool, ProtocolError> {
    buf.clear();
    loop {
        let available = reader.fill_buf().await.map_err(ProtocolError::Io)?;
        if available.is_empty() {
            return if buf.is_empty() {
                Ok(false)
            } else {
                Err(ProtocolError::Truncated)
            };
        }
        let (take, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        if buf.len() + take > MAX_LINE {
            return Err(ProtocolError::LineTooLong);
        }
        buf.extend_from_slice(&available[..take]);
        reader.consume(take);
        if done {
            buf.pop();
            return Ok(true);
        }
    }
}

/// Reads one request (lines up to an empty line), which must be complete by `deadline`: blank
/// lines and a request sent a byte at a time do not buy more time. `Ok(None)` when the client
/// closed the connection between requests.
pub async fn read_request<S: AsyncBufRead + Unpin>(
    reader: &mut S,
    deadline: Instant,
) -> Result<Option<Request>, ProtocolError> {
    let mut request = Request::default();
    let mut buf = Vec::with_capacity(256);
    loop {
        let more = tokio::time::timeout_at(deadline, read_line(reader, &mut buf))
            .await
            .map_err(|_| ProtocolError::Idle)??;
        if !more {
            return if request.attributes.is_empty() {
                Ok(None)
            } else {
                Err(ProtocolError::Truncated)
            };
        }
        if buf.is_empty() || buf == b"\r" {
            if request.attributes.is_empty() {
                // Stray empty lines between requests are skipped.
                continue;
            }
            return Ok(Some(request));
        }
        request.push_line(&buf)?;
    }
}

/// Makes text safe for one reply line: control characters and non-ASCII become `?`. (Lengths are
/// bounded where the text is built: headers by the `headers` module, refusals by [`refusal`].)
pub fn clean_reply(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() {
                c
            } else {
                '?'
            }
        })
        .collect()
}

/// A reject or defer text: cleaned, and cut with `...` to at most [`MAX_REPLY`] bytes (plain text,
/// nothing to keep balanced).
fn reply_text(text: &str) -> String {
    let mut text = clean_reply(text);
    if text.len() > MAX_REPLY {
        text.truncate(MAX_REPLY - 3);
        text.push_str("...");
    }
    text
}

// ------------------------------------------------------------------------------------------------
// Decisions

/// What the server answers for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// `DUNNO`.
    Dunno,
    /// `PREPEND <header>`: a header from the `headers` module, one line of at most 998 octets.
    Prepend(String),
    /// A defer: `DEFER_IF_PERMIT ...` or `450 ...`.
    Defer(String),
    /// `550 ...`.
    Reject(String),
}

impl Answer {
    /// The `action=` value.
    pub fn action(&self) -> String {
        match self {
            Answer::Dunno => "DUNNO".to_string(),
            Answer::Prepend(h) => format!("PREPEND {}", clean_reply(h)),
            Answer::Defer(t) | Answer::Reject(t) => clean_reply(t),
        }
    }
}

/// The outcome of checking one message (one `instance`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// A reject or defer, given for every request of the message; `None` to go on.
    pub refuse: Option<Answer>,
    /// Headers still to prepend, one per request.
    pub headers: Vec<String>,
    /// For the log.
    pub summary: String,
}

impl Decision {
    fn dunno(summary: String) -> Self {
        Decision {
            refuse: None,
            headers: Vec::new(),
            summary,
        }
    }

    /// The answer for the next request of the message: the refusal, else the next header, else
    /// DUNNO. Headers are given only at states where Postfix can still add one.
    pub fn next_answer(&mut self, state: &str) -> Answer {
        if let Some(refuse) = &self.refuse {
            return refuse.clone();
        }
        let can_prepend = !state.eq_ignore_ascii_case("END-OF-MESSAGE");
        if can_prepend && !self.headers.is_empty() {
            return Answer::Prepend(self.headers.remove(0));
        }
        Answer::Dunno
    }
}

/// What the configured level does with one result: `Some(true)` reject, `Some(false)` defer.
pub fn spf_action(
    config: &Config,
    level: RejectLevel,
    result: SpfResult,
    null_sender: bool,
) -> Option<bool> {
    if config.test_only {
        return None;
    }
    match (level, result) {
        (RejectLevel::False | RejectLevel::NoCheck, _) => None,
        (_, SpfResult::Temperror) if config.temperror_defer => Some(false),
        (_, SpfResult::Permerror) if config.permerror_reject => Some(true),
        (RejectLevel::Null, SpfResult::Fail) => null_sender.then_some(true),
        (_, SpfResult::Fail) => Some(true),
        (RejectLevel::Softfail | RejectLevel::SpfNotPass, SpfResult::Softfail) => Some(true),
        (RejectLevel::SpfNotPass, SpfResult::Neutral) => Some(true),
        _ => None,
    }
}

/// The reply for a refused result.
pub fn refusal(config: &Config, out: &SpfOutput, reject: bool) -> Answer {
    let what = match out.identity {
        Identity::Helo => "HELO",
        _ => "MAIL FROM",
    };
    let status = |s: &str| {
        if config.enhanced_codes {
            format!(" {s}")
        } else {
            String::new()
        }
    };
    if !reject {
        let text = format!("Temporary error checking SPF for {what} {}", out.domain());
        let head = match config.defer_reply {
            DeferReply::DeferIfPermit => "DEFER_IF_PERMIT",
            DeferReply::Code450 => "450",
        };
        return Answer::Defer(reply_text(&format!("{head}{} {text}", status("4.7.24"))));
    }
    let (code, text) = match out.result {
        SpfResult::Permerror => (
            "5.7.24",
            format!("SPF record of {} is invalid", out.domain()),
        ),
        SpfResult::Temperror => (
            "5.7.24",
            format!("SPF temporary error for {what} {}", out.domain()),
        ),
        SpfResult::Fail => {
            let why = out.explanation.as_deref().unwrap_or("not authorized");
            ("5.7.23", format!("SPF validation failed for {what}: {why}"))
        }
        r => (
            "5.7.23",
            format!("SPF validation failed for {what} {}: {r}", out.domain()),
        ),
    };
    Answer::Reject(reply_text(&format!("550{} {text}", status(code))))
}

/// The attributes of a request that the checks use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// `client_address`.
    pub ip: IpAddr,
    /// `helo_name` (may be empty).
    pub helo: String,
    /// `sender` (empty for the null sender).
    pub sender: String,
    /// `client_name` (verified), if not `unknown`.
    pub client_name: Option<String>,
    /// `reverse_client_name` (unverified PTR), if not `unknown`.
    pub reverse_name: Option<String>,
}

impl Client {
    /// The checked attributes of `request`, or why the request cannot be checked.
    pub fn from_request(request: &Request) -> Result<Client, String> {
        match request.get("request") {
            Some("smtpd_access_policy") => {}
            Some(other) => return Err(format!("unknown request type {:?}", shorten(other, 60))),
            None => return Err("request without the 'request' attribute".into()),
        }
        let address = request
            .get("client_address")
            .ok_or("request without client_address")?;
        let ip = address
            .trim_start_matches("IPv6:")
            .parse()
            .map_err(|_| format!("bad client_address {:?}", shorten(address, 60)))?;
        let known = |name: &str| {
            request
                .get(name)
                .filter(|v| !v.is_empty() && !v.eq_ignore_ascii_case("unknown"))
                .map(str::to_string)
        };
        Ok(Client {
            ip,
            helo: request.get("helo_name").unwrap_or("").trim().to_string(),
            sender: request.get("sender").unwrap_or("").trim().to_string(),
            client_name: known("client_name"),
            reverse_name: known("reverse_client_name"),
        })
    }
}

/// The iprev result from what Postfix says: `client_name` is the verified name.
fn iprev_result(client: &Client) -> MethodResult {
    let (result, name) = match (&client.client_name, &client.reverse_name) {
        (Some(name), _) => ("pass", Some(name.as_str())),
        (None, Some(name)) => ("fail", Some(name.as_str())),
        // Postfix does not tell a missing PTR from a DNS error.
        (None, None) => ("permerror", None),
    };
    MethodResult::new("iprev", result).property("policy.iprev", &client.ip.to_string(), name)
}

/// The checks of the server: configuration, resolver and SPF record cache.
pub struct Policyd<R> {
    config: Config,
    resolver: R,
    spf_config: spf::Config,
    cache: Option<Arc<RecordCache>>,
    evaluations: AtomicU64,
    connections: AtomicU64,
    limit: Arc<Semaphore>,
    /// Set once to stop: listeners stop accepting, connections close between requests.
    stop: watch::Sender<bool>,
}

impl<R: Resolver + 'static> Policyd<R> {
    /// A server with `config`, looking names up through `resolver`.
    pub fn new(config: Config, resolver: R) -> Arc<Self> {
        let spf_config = {
            let mut c = spf::Config::default();
            c.receiver = config.authserv_id.clone();
            c.timeout = Some(config.lookup_time);
            c.max_void_lookups = config.void_limit;
            c
        };
        let cache =
            (config.record_cache > 0).then(|| Arc::new(RecordCache::new(config.record_cache)));
        let limit = Arc::new(Semaphore::new(config.max_connections));
        Arc::new(Policyd {
            config,
            resolver,
            spf_config,
            cache,
            evaluations: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            limit,
            stop: watch::channel(false).0,
        })
    }

    /// A verifier whose checks end by `deadline` (temperror when it passes): the HELO and MAIL
    /// FROM checks of one message share one `Lookup_Time`.
    fn verifier(&self, deadline: Instant) -> Verifier<&R> {
        let mut config = self.spf_config.clone();
        config.timeout = Some(deadline.saturating_duration_since(Instant::now()));
        let verifier = Verifier::with_config(&self.resolver, config);
        match &self.cache {
            Some(cache) => verifier.with_cache(Arc::clone(cache)),
            None => verifier,
        }
    }

    /// Stops the server: the listeners stop accepting, idle connections close, and connections
    /// with a request in evaluation close after its answer. See [`Self::drained`].
    pub fn shutdown(&self) {
        self.stop.send_replace(true);
    }

    /// Waits until every connection has ended (after [`Self::shutdown`]).
    pub async fn drained(&self) {
        let all = u32::try_from(self.config.max_connections).unwrap_or(u32::MAX);
        let _ = self.limit.acquire_many(all).await;
    }

    /// Resolves once [`Self::shutdown`] was called.
    async fn stopped(&self) {
        let mut stop = self.stop.subscribe();
        let _ = stop.wait_for(|stop| *stop).await;
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// How many messages were evaluated (requests answered from a connection's cache not counted).
    pub fn evaluations(&self) -> u64 {
        self.evaluations.load(Ordering::Relaxed)
    }

    fn log(&self, level: u8, conn: u64, message: std::fmt::Arguments<'_>) {
        if self.config.debug_level >= level {
            eprintln!("policyd[{conn}]: {message}");
        }
    }

    /// Checks one message as pypolicyd-spf does: skip and whitelisted networks, then HELO, then
    /// MAIL FROM.
    pub async fn evaluate(&self, client: &Client) -> Decision {
        let config = &self.config;
        let ip = client.ip;
        if let Some(hit) = config
            .skip_addresses
            .lookup(ip)
            .filter(|m| !m.entry.is_negated())
        {
            return Decision::dunno(format!("{ip} in skip_addresses ({hit}): not checked"));
        }
        if let Some(hit) = config
            .whitelist
            .lookup(ip)
            .filter(|m| !m.entry.is_negated())
        {
            return Decision::dunno(format!("{ip} in Whitelist ({hit}): not checked"));
        }
        if client.helo.is_empty() && client.sender.is_empty() {
            return Decision::dunno("no HELO and no sender: not checked".into());
        }
        self.evaluations.fetch_add(1, Ordering::Relaxed);
        // One budget for the whole message: Postfix waits for one answer, not one per check.
        let deadline = Instant::now() + config.lookup_time;
        let sender = sender_identity::envelope::sender(&client.sender);
        let null_sender = sender.is_empty();
        let helo = match client.helo.as_str() {
            "" => sender.rsplit_once('@').map_or("unknown", |(_, d)| d),
            h => h,
        }
        .to_string();
        let mut summary = Vec::new();

        let helo_out = if config.helo_reject == RejectLevel::NoCheck {
            None
        } else {
            let out = self.verifier(deadline).check_helo(ip, &helo).await;
            summary.push(format!("helo {}={}", helo, out.result));
            if let Some(reject) = spf_action(config, config.helo_reject, out.result, null_sender) {
                return Decision {
                    refuse: Some(refusal(config, &out, reject)),
                    headers: Vec::new(),
                    summary: summary.join(", "),
                };
            }
            Some(out)
        };

        let mail_out = match (config.mail_from_reject, &helo_out) {
            (RejectLevel::NoCheck, _) => None,
            // The null sender is checked as postmaster@<helo>: the HELO result, as MAIL FROM.
            (_, Some(h)) if null_sender => {
                let mut out = h.clone();
                out.identity = Identity::MailFrom;
                Some(out)
            }
            _ => Some(
                self.verifier(deadline)
                    .check_mail_from(ip, &helo, sender)
                    .await,
            ),
        };
        if let Some(out) = &mail_out {
            summary.push(format!("mailfrom {}={}", out.domain(), out.result));
            if let Some(reject) =
                spf_action(config, config.mail_from_reject, out.result, null_sender)
            {
                return Decision {
                    refuse: Some(refusal(config, out, reject)),
                    headers: Vec::new(),
                    summary: summary.join(", "),
                };
            }
        }

        let mut headers = Vec::new();
        let main = mail_out.as_ref().or(helo_out.as_ref());
        if let (Some(out), HeaderType::Spf | HeaderType::Both) = (main, config.header_type) {
            let header = ReceivedSpf::new(out, ip, &helo, sender)
                .receiver(&config.authserv_id)
                .header();
            headers.push(header.unfolded());
        }
        if matches!(config.header_type, HeaderType::Ar | HeaderType::Both) {
            let mut ar = AuthenticationResults::new(&config.authserv_id);
            if let Some(out) = &mail_out {
                let value = if null_sender {
                    format!("postmaster@{helo}")
                } else {
                    sender.to_string()
                };
                ar = ar.spf(out, &value);
            }
            if let Some(out) = &helo_out {
                ar = ar.spf(out, &helo);
            }
            ar = ar.push(iprev_result(client));
            headers.push(ar.header().unfolded());
        }
        Decision {
            refuse: None,
            headers,
            summary: summary.join(", "),
        }
    }

    /// Answers the requests of one connection until it closes or breaks the protocol.
    pub async fn handle<S: AsyncRead + AsyncWrite + Unpin>(&self, stream: S, conn: u64) {
        let (reader, mut writer) = tokio::io::split(stream);
        let mut reader = BufReader::with_capacity(4096, reader);
        // The last message's decision on this connection: Postfix sends one request per
        // recipient, all with the same `instance`.
        let mut cache: Option<(String, Decision)> = None;
        loop {
            // Idle time counts from the connection's start or the last reply, whatever arrives.
            let deadline = Instant::now() + self.config.idle_timeout;
            let read = tokio::select! {
                // A request read after shutdown would be evaluated for nothing: close first.
                biased;
                () = self.stopped() => {
                    self.log(2, conn, format_args!("shutting down; closing the connection"));
                    return;
                }
                read = read_request(&mut reader, deadline) => read,
            };
            let request = match read {
                Ok(Some(request)) => request,
                Ok(None) => {
                    self.log(2, conn, format_args!("connection closed"));
                    return;
                }
                Err(e) => {
                    self.log(0, conn, format_args!("{e}; closing the connection"));
                    return;
                }
            };
            if self.config.debug_level >= 2 {
                let attrs: Vec<String> = request
                    .attributes
                    .iter()
                    .map(|(n, v)| format!("{n}={}", clean_reply(&shorten(v, 100))))
                    .collect();
                self.log(2, conn, format_args!("request: {}", attrs.join(" ")));
            }
            let answer = self.answer(&request, &mut cache, conn).await;
            let reply = format!("action={}\n\n", answer.action());
            if let Err(e) = writer.write_all(reply.as_bytes()).await {
                self.log(
                    0,
                    conn,
                    format_args!("write error: {e}; closing the connection"),
                );
                return;
            }
            let _ = writer.flush().await;
        }
    }

    async fn answer(
        &self,
        request: &Request,
        cache: &mut Option<(String, Decision)>,
        conn: u64,
    ) -> Answer {
        let client = match Client::from_request(request) {
            Ok(client) => client,
            Err(why) => {
                self.log(0, conn, format_args!("{why}; answering DUNNO"));
                return Answer::Dunno;
            }
        };
        let state = request.get("protocol_state").unwrap_or("RCPT");
        if !["MAIL", "RCPT", "DATA", "END-OF-MESSAGE"]
            .iter()
            .any(|s| state.eq_ignore_ascii_case(s))
        {
            return Answer::Dunno;
        }
        let instance = request.get("instance").unwrap_or("").to_string();
        let cached = matches!(cache, Some((i, _)) if !instance.is_empty() && *i == instance);
        if !cached {
            let decision = self.evaluate(&client).await;
            self.log(
                1,
                conn,
                format_args!(
                    "client={} helo={:?} sender={:?} instance={}: {}",
                    client.ip,
                    clean_reply(&shorten(&client.helo, 100)),
                    clean_reply(&shorten(&client.sender, 100)),
                    clean_reply(&shorten(&instance, 40)),
                    decision.summary
                ),
            );
            *cache = Some((instance, decision));
        }
        let (_, decision) = cache.as_mut().expect("set above");
        let answer = decision.next_answer(state);
        if !cached || self.config.debug_level >= 2 {
            self.log(1, conn, format_args!("action={}", answer.action()));
        }
        answer
    }

    /// Serves an accepted connection on its own task, holding a connection permit while it runs;
    /// returns its number, or `None` when over the connection limit (see [`Self::admit`]).
    fn spawn<S>(self: &Arc<Self>, stream: S) -> Option<u64>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let (conn, permit) = self.admit()?;
        let server = Arc::clone(self);
        tokio::spawn(async move {
            server.handle(stream, conn).await;
            drop(permit);
        });
        Some(conn)
    }

    fn admit(&self) -> Option<(u64, tokio::sync::OwnedSemaphorePermit)> {
        let conn = self.connections.fetch_add(1, Ordering::Relaxed) + 1;
        match Arc::clone(&self.limit).try_acquire_owned() {
            Ok(permit) => Some((conn, permit)),
            Err(_) => {
                self.log(
                    0,
                    conn,
                    format_args!(
                        "more than {} connections at once; closing this one",
                        self.config.max_connections
                    ),
                );
                None
            }
        }
    }

    /// Serves connections from `listener` until [`Self::shutdown`] (or the task is dropped).
    pub async fn serve_tcp(self: Arc<Self>, listener: tokio::net::TcpListener) {
        loop {
            let accepted = tokio::select! {
                () = self.stopped() => return,
                accepted = listener.accept() => accepted,
            };
            match accepted {
                Ok((stream, peer)) => {
                    if let Some(conn) = self.spawn(stream) {
                        self.log(2, conn, format_args!("connection from {peer}"));
                    }
                }
                Err(e) => {
                    eprintln!("policyd: accept error: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }

    /// Serves connections from a UNIX socket until [`Self::shutdown`] (or the task is dropped).
    #[cfg(unix)]
    pub async fn serve_unix(self: Arc<Self>, listener: tokio::net::UnixListener) {
        loop {
            let accepted = tokio::select! {
                () = self.stopped() => return,
                accepted = listener.accept() => accepted,
            };
            match accepted {
                Ok((stream, _)) => {
                    self.spawn(stream);
                }
                Err(e) => {
                    eprintln!("policyd: accept error: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }
}

// ------------------------------------------------------------------------------------------------
// The program

/// The command line's usage.
pub const USAGE: &str = "usage: policyd [--config FILE] [--listen IP:PORT] [--unix PATH] \
                         [--nameserver system|IP:PORT] [--check-config]";

/// The configuration from the command line (`--config` and overrides), and whether only to check
/// it.
pub fn load(args: &[String]) -> Result<(Config, bool), String> {
    let mut config_file = None;
    let mut overrides: Vec<(String, String)> = Vec::new();
    let mut check_only = false;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value\n{USAGE}"))
        };
        match arg.as_str() {
            "--config" => config_file = Some(value("--config")?),
            "--listen" | "--unix" | "--nameserver" => {
                overrides.push((arg.clone(), value(arg)?));
            }
            "--check-config" => check_only = true,
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    let mut config = match &config_file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
            Config::parse(&text).map_err(|e| format!("{path}: {e}; configuration refused"))?
        }
        None => Config::default(),
    };
    for (name, value) in overrides {
        let bad = |m: String| format!("{name}: {m}");
        match name.as_str() {
            "--listen" => {
                config.listen = Some(
                    value
                        .parse()
                        .map_err(|_| bad(format!("expected IP:PORT, got {value:?}")))?,
                )
            }
            "--unix" => config.unix = Some(value.into()),
            _ => config.nameserver = parse_nameserver(&value).map_err(bad)?,
        }
    }
    Ok((config, check_only))
}

/// The program: `args` without the program name; the exit status. Until SIGTERM or SIGINT it
/// serves; then it stops accepting, answers the requests already in evaluation (each within
/// `Lookup_Time`), closes every connection, removes its UNIX socket and exits with 0.
pub async fn run(args: &[String]) -> u8 {
    use tokio::signal::unix::{SignalKind, signal};
    let (config, check_only) = match load(args) {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("policyd: {e}");
            return 2;
        }
    };
    if check_only {
        use std::io::Write as _;
        // A closed stdout (e.g. `| head`) is not an error worth a panic.
        let _ = write!(
            std::io::stdout(),
            "# configuration OK; the effective settings:\n{}",
            config.summary()
        );
        return 0;
    }
    // Before listening: from the first connection on, SIGTERM means "finish and exit".
    let (mut term, mut int) = match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(term), Ok(int)) => (term, int),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("policyd: cannot handle signals: {e}");
            return 1;
        }
    };
    let resolver = match build_resolver(&config) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("policyd: DNS: {e}");
            return 1;
        }
    };
    let tcp = config.tcp_listen();
    let unix = config.unix.clone();
    let grace = config.lookup_time + Duration::from_secs(5);
    let server = Policyd::new(config, resolver);
    let mut tasks = tokio::task::JoinSet::new();
    if let Some(addr) = tcp {
        match tokio::net::TcpListener::bind(addr).await {
            Ok(listener) => {
                eprintln!(
                    "policyd: listening on {}",
                    listener.local_addr().unwrap_or(addr)
                );
                tasks.spawn(server.clone().serve_tcp(listener));
            }
            Err(e) => {
                eprintln!("policyd: cannot listen on {addr}: {e}");
                return 1;
            }
        }
    }
    if let Some(path) = &unix {
        // A socket file left by an earlier run would make bind fail.
        if std::fs::symlink_metadata(path)
            .map(|m| std::os::unix::fs::FileTypeExt::is_socket(&m.file_type()))
            .unwrap_or(false)
        {
            let _ = std::fs::remove_file(path);
        }
        match tokio::net::UnixListener::bind(path) {
            Ok(listener) => {
                eprintln!("policyd: listening on {}", path.display());
                tasks.spawn(server.clone().serve_unix(listener));
            }
            Err(e) => {
                eprintln!("policyd: cannot listen on {}: {e}", path.display());
                return 1;
            }
        }
    }
    // A listener that ends on its own failed: the exit status then says so, so that a supervisor
    // (systemd's Restart=on-failure) starts the server again.
    let (signal, status) = tokio::select! {
        _ = term.recv() => ("SIGTERM", 0),
        _ = int.recv() => ("SIGINT", 0),
        _ = tasks.join_next() => ("a listener ended", 1),
    };
    eprintln!("policyd: {signal}: finishing the requests in evaluation");
    server.shutdown();
    while tasks.join_next().await.is_some() {}
    // Each request in evaluation ends within Lookup_Time; a client that does not read its answer
    // must not hold the exit forever.
    if tokio::time::timeout(grace, server.drained()).await.is_err() {
        eprintln!("policyd: connections still open after {grace:?}; exiting anyway");
    }
    if let Some(path) = &unix
        && let Err(e) = std::fs::remove_file(path)
    {
        eprintln!("policyd: cannot remove {}: {e}", path.display());
    }
    eprintln!("policyd: stopped");
    status
}

// ------------------------------------------------------------------------------------------------
// Unit tests of the pure parts

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn config_defaults_and_options() {
        let config = Config::parse("").unwrap();
        assert_eq!(config.helo_reject, RejectLevel::Fail);
        assert!(config.skip_addresses.contains("127.0.0.1".parse().unwrap()));
        assert!(config.skip_addresses.contains("::1".parse().unwrap()));
        assert_eq!(config.tcp_listen(), Some(DEFAULT_LISTEN.parse().unwrap()));

        let text = "# policyd\n\
                    HELO_reject = SPF_Not_Pass\n\
                    mail_from_reject = Softfail\n\
                    \n\
                    TempError_Defer = True\n\
                    Defer_Reply = 450\n\
                    Header_Type = AR\n\
                    Authserv_Id = mx.example.net\n\
                    Whitelist = 192.0.2.0/24, 2001:db8::/32\n\
                    Nameserver = 127.0.0.1:5353\n\
                    Unix_Socket = /run/policyd.sock\n\
                    TestOnly = 1\n";
        let config = Config::parse(text).unwrap();
        assert_eq!(config.helo_reject, RejectLevel::SpfNotPass);
        assert_eq!(config.mail_from_reject, RejectLevel::Softfail);
        assert!(config.temperror_defer);
        assert_eq!(config.defer_reply, DeferReply::Code450);
        assert_eq!(config.header_type, HeaderType::Ar);
        assert_eq!(config.authserv_id, "mx.example.net");
        assert!(config.whitelist.contains("192.0.2.9".parse().unwrap()));
        assert!(config.whitelist.contains("2001:db8::1".parse().unwrap()));
        assert_eq!(
            config.nameserver,
            Nameserver::Addrs(vec!["127.0.0.1:5353".parse().unwrap()])
        );
        assert!(!config.test_only);
        assert_eq!(config.tcp_listen(), None);
    }

    #[test]
    fn config_errors_give_the_line() {
        let cases = [
            ("HELO_reject = Fail\nBogus = 1\n", 2, "unknown option"),
            ("Mail_From_reject = Null\n", 1, "Mail_From_reject"),
            ("\n\nWhitelist = 192.0.2.1/24\n", 3, "Whitelist"),
            ("Nameserver = 127.0.0.1\n", 1, "IP:PORT"),
            ("Header_Type = SPF\nheader_type = AR\n", 2, "set twice"),
            ("just words\n", 1, "Name = value"),
            ("TempError_Defer = maybe\n", 1, "True or False"),
            ("Authserv_Id = a b\n", 1, "host name"),
        ];
        for (text, line, needle) in cases {
            let err = Config::parse(text).unwrap_err();
            assert_eq!(err.line, line, "{text:?}: {err}");
            assert!(err.to_string().contains(needle), "{text:?}: {err}");
        }
    }

    #[test]
    fn request_lines() {
        let mut r = Request::default();
        r.push_line(b"request=smtpd_access_policy").unwrap();
        r.push_line(b"sender=a=b@example.com\r").unwrap();
        r.push_line(b"sender=second@example.com").unwrap();
        r.push_line(b"empty=").unwrap();
        assert_eq!(r.get("sender"), Some("a=b@example.com"));
        assert_eq!(r.get("empty"), Some(""));
        assert!(matches!(
            r.push_line(b"novalue"),
            Err(ProtocolError::BadLine(_))
        ));
        assert!(matches!(r.push_line(b"=x"), Err(ProtocolError::BadLine(_))));
        assert!(matches!(
            r.push_line(b"a=\0"),
            Err(ProtocolError::BadLine(_))
        ));
        assert!(matches!(
            r.push_line(b"a=\xff\xfe"),
            Err(ProtocolError::BadLine(_))
        ));
        let mut full = Request::default();
        for i in 0..MAX_ATTRIBUTES {
            full.push_line(format!("a{i}=1").as_bytes()).unwrap();
        }
        assert!(matches!(
            full.push_line(b"x=1"),
            Err(ProtocolError::TooManyAttributes)
        ));
    }

    #[tokio::test]
    async fn reading_requests() {
        let idle = Instant::now() + Duration::from_secs(5);
        let input: &[u8] = b"\na=1\nb=2\n\nc=3\n\n";
        let mut reader = BufReader::new(input);
        let first = read_request(&mut reader, idle).await.unwrap().unwrap();
        assert_eq!(first.attributes.len(), 2);
        let second = read_request(&mut reader, idle).await.unwrap().unwrap();
        assert_eq!(second.get("c"), Some("3"));
        assert!(read_request(&mut reader, idle).await.unwrap().is_none());

        let mut truncated = BufReader::new(&b"a=1\nb=2"[..]);
        assert!(matches!(
            read_request(&mut truncated, idle).await,
            Err(ProtocolError::Truncated)
        ));
        let long = format!("a={}\n\n", "x".repeat(MAX_LINE));
        let mut long = BufReader::new(long.as_bytes());
        assert!(matches!(
            read_request(&mut long, idle).await,
            Err(ProtocolError::LineTooLong)
        ));
        let ok = format!("a={}\n\n", "x".repeat(MAX_LINE - 3));
        let mut ok = BufReader::new(ok.as_bytes());
        assert!(read_request(&mut ok, idle).await.unwrap().is_some());
    }

    #[test]
    fn action_mapping() {
        use SpfResult::{Fail, Neutral, Pass, Permerror, Softfail, Temperror};
        let mut config = Config::default();
        let act = |c: &Config, level, result, null| spf_action(c, level, result, null);
        assert_eq!(act(&config, RejectLevel::Fail, Fail, false), Some(true));
        assert_eq!(act(&config, RejectLevel::Fail, Softfail, false), None);
        assert_eq!(
            act(&config, RejectLevel::Softfail, Softfail, false),
            Some(true)
        );
        assert_eq!(act(&config, RejectLevel::Softfail, Neutral, false), None);
        assert_eq!(
            act(&config, RejectLevel::SpfNotPass, Neutral, false),
            Some(true)
        );
        assert_eq!(
            act(&config, RejectLevel::SpfNotPass, SpfResult::None, false),
            None
        );
        assert_eq!(act(&config, RejectLevel::SpfNotPass, Pass, false), None);
        assert_eq!(act(&config, RejectLevel::Null, Fail, false), None);
        assert_eq!(act(&config, RejectLevel::Null, Fail, true), Some(true));
        assert_eq!(act(&config, RejectLevel::False, Fail, false), None);
        assert_eq!(act(&config, RejectLevel::Fail, Temperror, false), None);
        assert_eq!(act(&config, RejectLevel::Fail, Permerror, false), None);
        config.temperror_defer = true;
        config.permerror_reject = true;
        assert_eq!(
            act(&config, RejectLevel::Fail, Temperror, false),
            Some(false)
        );
        assert_eq!(
            act(&config, RejectLevel::Fail, Permerror, false),
            Some(true)
        );
        assert_eq!(act(&config, RejectLevel::False, Permerror, false), None);
        config.test_only = true;
        assert_eq!(act(&config, RejectLevel::Fail, Fail, false), None);
    }

    #[test]
    fn decisions_give_headers_once_and_refusals_always() {
        let mut d = Decision {
            refuse: None,
            headers: vec![
                "Received-SPF: pass".into(),
                "Authentication-Results: x".into(),
            ],
            summary: String::new(),
        };
        assert_eq!(d.next_answer("END-OF-MESSAGE"), Answer::Dunno);
        assert_eq!(d.next_answer("RCPT").action(), "PREPEND Received-SPF: pass");
        assert_eq!(
            d.next_answer("DATA").action(),
            "PREPEND Authentication-Results: x"
        );
        assert_eq!(d.next_answer("RCPT"), Answer::Dunno);
        let mut r = Decision {
            refuse: Some(Answer::Reject("550 5.7.23 no\r\nbad".into())),
            headers: vec![],
            summary: String::new(),
        };
        assert_eq!(r.next_answer("RCPT").action(), "550 5.7.23 no??bad");
        assert_eq!(r.next_answer("RCPT").action(), "550 5.7.23 no??bad");
    }

    #[test]
    fn reply_texts_fit_an_smtp_reply_line() {
        let long = format!("550 5.7.23 {}\r\n", "x".repeat(2000));
        let text = reply_text(&long);
        assert_eq!(text.len(), MAX_REPLY);
        assert!(text.starts_with("550 5.7.23 xxx") && text.ends_with("xx..."));
        assert_eq!(reply_text("450 4.7.24 short\n"), "450 4.7.24 short?");
    }

    #[test]
    fn client_attributes() {
        let mut r = Request::default();
        for line in [
            "request=smtpd_access_policy",
            "client_address=192.0.2.1",
            "client_name=unknown",
            "reverse_client_name=mail.example.com",
            "helo_name=mail.example.com",
        ] {
            r.push_line(line.as_bytes()).unwrap();
        }
        let c = Client::from_request(&r).unwrap();
        assert_eq!(c.ip, "192.0.2.1".parse::<IpAddr>().unwrap());
        assert_eq!(c.client_name, None);
        assert_eq!(c.reverse_name.as_deref(), Some("mail.example.com"));
        assert_eq!(c.sender, "");
        let mut missing = Request::default();
        missing.push_line(b"request=smtpd_access_policy").unwrap();
        assert!(
            Client::from_request(&missing)
                .unwrap_err()
                .contains("client_address")
        );
    }
}
