//! Trace headers: `Received-SPF` (RFC 7208 §9.1) and `Authentication-Results` (RFC 8601).
//!
//! Every value that comes from the client or from DNS (HELO names, senders, explanations, DNS
//! error texts) passes through one quoting function, [`quote_value`], and comments through
//! [`quote_comment`]: CR, LF and other control characters, non-ASCII bytes, quotes, backslashes,
//! semicolons and parentheses can neither end the header nor change its structure, and overlong
//! values are cut.
//!
//! ```
//! use sender_identity::headers::{AuthenticationResults, ReceivedSpf};
//! use sender_identity::dns::ZoneResolver;
//! use sender_identity::spf::Verifier;
//!
//! let zone: ZoneResolver = r#"example.com TXT "v=spf1 ip4:192.0.2.0/24 -all""#.parse().unwrap();
//! # let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
//! # rt.block_on(async {
//! let ip = "192.0.2.7".parse().unwrap();
//! let out = Verifier::new(zone).check_mail_from(ip, "mail.example.com", "alice@example.com").await;
//!
//! let received = ReceivedSpf::new(&out, ip, "mail.example.com", "alice@example.com")
//!     .receiver("mx.example.net")
//!     .header();
//! assert_eq!(
//!     received.value,
//!     "pass (mx.example.net: domain of alice@example.com designates 192.0.2.7 as permitted sender) \
//!      client-ip=192.0.2.7; envelope-from=alice@example.com; helo=mail.example.com; \
//!      receiver=mx.example.net; identity=mailfrom; mechanism=\"ip4:192.0.2.0/24\""
//! );
//!
//! let ar = AuthenticationResults::new("mx.example.net").spf(&out, "alice@example.com").header();
//! assert_eq!(ar.value, "mx.example.net; spf=pass smtp.mailfrom=alice@example.com");
//! # });
//! ```

use crate::spf::{Cause, Identity, SpfOutput, SpfResult};
use std::fmt::{self, Write as _};
use std::net::IpAddr;

/// The longest value (in bytes) taken from outside before it is cut, with `...` appended.
pub const MAX_VALUE_LEN: usize = 256;

/// A header field: its name and its value on one line (no CR or LF anywhere).
///
/// `Display` writes `Name: value` folded to lines of at most 78 characters where there are spaces
/// to fold at, with CRLF and a tab before each continuation (RFC 5322 §2.2.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The field name, e.g. `Received-SPF`.
    pub name: &'static str,
    /// The field body, unfolded.
    pub value: String,
}

impl Header {
    /// `Name: value` on one line (as a Postfix policy `PREPEND` action or a milter wants it).
    pub fn unfolded(&self) -> String {
        format!("{}: {}", self.name, self.value)
    }
}

impl fmt::Display for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const WIDTH: usize = 78;
        f.write_str(self.name)?;
        f.write_char(':')?;
        let mut line = self.name.len() + 1;
        for word in split_outside_quotes(&self.value) {
            if line + 1 + word.len() > WIDTH && line > 1 {
                f.write_str("\r\n\t")?;
                line = 1;
            } else {
                f.write_char(' ')?;
                line += 1;
            }
            f.write_str(word)?;
            line += word.len();
        }
        Ok(())
    }
}

/// Splits at spaces that are not inside a quoted string or comment (folding there is allowed and
/// keeps quoted text intact).
fn split_outside_quotes(value: &str) -> Vec<&str> {
    let mut words = Vec::new();
    let (mut start, mut quoted, mut depth, mut escaped) = (0, false, 0u32, false);
    for (i, c) in value.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' if quoted || depth > 0 => escaped = true,
            '"' if depth == 0 => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth = depth.saturating_sub(1),
            ' ' if !quoted && depth == 0 => {
                if i > start {
                    words.push(&value[start..i]);
                }
                start = i + 1;
            }
            _ => {}
        }
    }
    if start < value.len() {
        words.push(&value[start..]);
    }
    words
}

/// Cleans text from outside: control characters and non-ASCII become `?`, and more than
/// [`MAX_VALUE_LEN`] bytes are cut with `...`.
pub(crate) fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_VALUE_LEN + 3));
    for c in text.chars() {
        if out.len() >= MAX_VALUE_LEN {
            out.push_str("...");
            break;
        }
        out.push(if c == ' ' || c.is_ascii_graphic() {
            c
        } else {
            '?'
        });
    }
    out
}

/// RFC 5322 `atext`.
fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c)
}

fn is_dot_atom(s: &str) -> bool {
    !s.is_empty()
        && s.split('.')
            .all(|part| !part.is_empty() && part.chars().all(is_atext))
}

/// A header value that is safe to write after `key=`: unchanged when it is a `dot-atom` (or an
/// address `dot-atom@dot-atom`), otherwise a `quoted-string` with `"` and `\` escaped. Control
/// characters and non-ASCII become `?`; long values are cut.
///
/// ```
/// use sender_identity::headers::quote_value;
/// assert_eq!(quote_value("mail.example.com"), "mail.example.com");
/// assert_eq!(quote_value("a@example.com"), "a@example.com");
/// assert_eq!(quote_value("[192.0.2.1]"), "\"[192.0.2.1]\"");
/// assert_eq!(quote_value("x\r\nBcc: evil;\"q\""), "\"x??Bcc: evil;\\\"q\\\"\"");
/// assert_eq!(quote_value(""), "\"\"");
/// ```
pub fn quote_value(text: &str) -> String {
    let text = clean(text);
    let plain = match text.rsplit_once('@') {
        Some((local, domain)) => is_dot_atom(local) && is_dot_atom(domain),
        None => is_dot_atom(&text),
    };
    if plain {
        return text;
    }
    quoted_string(&text)
}

/// `text` (already cleaned) as a `quoted-string`.
fn quoted_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Text that is safe inside a header comment `( ... )`: parentheses and backslashes escaped,
/// control characters and non-ASCII replaced, long text cut.
///
/// ```
/// use sender_identity::headers::quote_comment;
/// assert_eq!(quote_comment("see (this)\n"), "see \\(this\\)?");
/// ```
pub fn quote_comment(text: &str) -> String {
    let text = clean(text);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '(' | ')' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// An RFC 2045 `token` (allowed unquoted as an Authentication-Results `value`).
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_graphic() && !"()<>@,;:\\\"/[]?=".contains(c))
}

/// An Authentication-Results `pvalue`: a token, an address or domain, or a quoted string.
fn pvalue(text: &str) -> String {
    let cleaned = clean(text);
    if is_token(&cleaned) {
        return cleaned;
    }
    quote_value(text)
}

/// The mechanism key for `Received-SPF`: the directive that matched, or `default`.
fn mechanism(out: &SpfOutput) -> Option<String> {
    match &out.cause {
        Cause::Match { .. } => out.matched().map(|d| d.mechanism.to_string()),
        Cause::NoMatch { .. } => Some("default".to_string()),
        _ => None,
    }
}

/// The `problem` key: the error or the reason for `none`.
fn problem(out: &SpfOutput) -> Option<String> {
    match &out.cause {
        Cause::Error(e) => Some(e.to_string()),
        Cause::InvalidDomain { .. } | Cause::NoRecord { .. } => Some(out.cause.to_string()),
        _ => None,
    }
}

/// A `Received-SPF` header field (RFC 7208 §9.1) for one SPF result.
#[derive(Debug, Clone)]
pub struct ReceivedSpf<'a> {
    out: &'a SpfOutput,
    client_ip: IpAddr,
    helo: &'a str,
    envelope_from: &'a str,
    receiver: Option<&'a str>,
}

impl<'a> ReceivedSpf<'a> {
    /// The header for `out`, the result of checking `client_ip` that said `helo` and `MAIL FROM`
    /// `envelope_from` (empty for the null sender or a HELO check).
    pub fn new(
        out: &'a SpfOutput,
        client_ip: IpAddr,
        helo: &'a str,
        envelope_from: &'a str,
    ) -> Self {
        ReceivedSpf {
            out,
            client_ip: crate::ip::canonical(client_ip),
            helo,
            envelope_from,
            receiver: None,
        }
    }

    /// The verifier's host name (`receiver=` and the comment).
    pub fn receiver(mut self, receiver: &'a str) -> Self {
        self.receiver = Some(receiver);
        self
    }

    /// The human-readable comment, as pyspf and Mail::SPF write it.
    fn comment(&self) -> String {
        let who = match self.out.identity {
            Identity::MailFrom if !self.envelope_from.is_empty() => self.envelope_from.to_string(),
            _ => format!("postmaster@{}", self.out.domain()),
        };
        let (ip, domain) = (self.client_ip, self.out.domain());
        let text = match self.out.result {
            SpfResult::Pass => format!("domain of {who} designates {ip} as permitted sender"),
            SpfResult::Fail => {
                format!("domain of {who} does not designate {ip} as permitted sender")
            }
            SpfResult::Softfail => {
                format!("transitioning domain of {who} does not designate {ip} as permitted sender")
            }
            SpfResult::Neutral => {
                format!("{ip} is neither permitted nor denied by domain of {who}")
            }
            SpfResult::None => format!("{domain} does not designate permitted sender hosts"),
            SpfResult::Temperror => format!("error in processing during lookup of {domain}"),
            SpfResult::Permerror => format!("permanent error in processing domain of {domain}"),
        };
        match self.receiver {
            Some(r) => format!("{}: {}", clean(r), text),
            None => text,
        }
    }

    /// The header field.
    pub fn header(&self) -> Header {
        let mut value = format!("{} ({})", self.out.result, quote_comment(&self.comment()));
        let mut key = |k: &str, v: &str| {
            let _ = write!(value, " {k}={};", quote_value(v));
        };
        key("client-ip", &self.client_ip.to_string());
        if self.out.identity == Identity::MailFrom {
            let from = match self.envelope_from {
                "" => format!("postmaster@{}", self.helo),
                from => from.to_string(),
            };
            key("envelope-from", &from);
        }
        key("helo", self.helo);
        if let Some(problem) = problem(self.out) {
            key("problem", &problem);
        }
        if let Some(r) = self.receiver {
            key("receiver", r);
        }
        key("identity", self.out.identity.as_str());
        if let Some(m) = mechanism(self.out) {
            key("mechanism", &m);
        }
        value.pop(); // the last ';'
        Header {
            name: "Received-SPF",
            value,
        }
    }
}

/// One `method=result` entry of an `Authentication-Results` header, with its reason, properties
/// and comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodResult {
    method: String,
    result: String,
    reason: Option<String>,
    properties: Vec<(String, String, Option<String>)>,
}

impl MethodResult {
    /// `method=result`, e.g. `spf=pass`.
    pub fn new(method: &str, result: &str) -> Self {
        MethodResult {
            method: method.to_string(),
            result: result.to_string(),
            reason: None,
            properties: Vec::new(),
        }
    }

    /// Adds `reason="..."`.
    pub fn reason(mut self, reason: &str) -> Self {
        self.reason = Some(reason.to_string());
        self
    }

    /// Adds a property, e.g. `("smtp.mailfrom", "a@example.com")`, with an optional comment after
    /// it.
    pub fn property(mut self, name: &str, value: &str, comment: Option<&str>) -> Self {
        self.properties.push((
            name.to_string(),
            value.to_string(),
            comment.map(str::to_string),
        ));
        self
    }

    fn write(&self, out: &mut String) {
        let _ = write!(out, "{}={}", self.method, self.result);
        if let Some(reason) = &self.reason {
            let _ = write!(out, " reason={}", quoted_string(&clean(reason)));
        }
        for (name, value, comment) in &self.properties {
            let _ = write!(out, " {name}={}", pvalue(value));
            if let Some(c) = comment {
                let _ = write!(out, " ({})", quote_comment(c));
            }
        }
    }
}

/// An `Authentication-Results` header field (RFC 8601) built from check results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticationResults {
    authserv_id: String,
    results: Vec<MethodResult>,
}

impl AuthenticationResults {
    /// A header for the verifier `authserv_id` (usually its host name).
    pub fn new(authserv_id: &str) -> Self {
        AuthenticationResults {
            authserv_id: authserv_id.to_string(),
            results: Vec::new(),
        }
    }

    /// Adds an SPF result: `spf=<result> smtp.mailfrom=<sender>` for the MAIL FROM identity, or
    /// `smtp.helo=<name>` for the HELO identity; errors and `none` get a `reason`.
    pub fn spf(mut self, out: &SpfOutput, identity_value: &str) -> Self {
        let property = match out.identity {
            Identity::Helo => "smtp.helo",
            _ => "smtp.mailfrom",
        };
        let value = match identity_value {
            "" => out.domain(),
            v => v,
        };
        let mut m = MethodResult::new("spf", out.result.as_str());
        if let Some(problem) = problem(out) {
            m = m.reason(&problem);
        }
        self.results.push(m.property(property, value, None));
        self
    }

    /// Adds a result of any method.
    pub fn push(mut self, result: MethodResult) -> Self {
        self.results.push(result);
        self
    }

    /// The header field (`none` when no result was added, RFC 8601 §2.2).
    pub fn header(&self) -> Header {
        let mut value = pvalue(&self.authserv_id);
        if self.results.is_empty() {
            value.push_str("; none");
        }
        for r in &self.results {
            value.push_str("; ");
            r.write(&mut value);
        }
        Header {
            name: "Authentication-Results",
            value,
        }
    }
}
