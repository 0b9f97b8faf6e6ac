//! Trace headers: `Received-SPF` (RFC 7208 §9.1) and `Authentication-Results` (RFC 8601).
//!
//! Every value that comes from the client or from DNS (HELO names, senders, explanations, DNS
//! error texts, matched mechanisms) is written in the form its grammar allows, and comments through
//! [`quote_comment`]'s escaping: CR, LF and other control characters, non-ASCII bytes, quotes,
//! backslashes, semicolons, `=` and parentheses can neither end the header nor change its
//! structure.
//!
//! - `Received-SPF` values are an RFC 5322 `dot-atom` or a `quoted-string` (RFC 7208 §9.1), so
//!   `envelope-from="alice@example.com"` is quoted (`@` is not `atext`).
//! - `Authentication-Results` values are an RFC 2045 `token`, an address `local-part@domain-name`
//!   for properties (RFC 8601 §2.2 `pvalue`), or a `quoted-string`: `smtp.helo="spf=pass"`.
//!
//! # Length
//!
//! A header built here fits one line of a message: [`Header::unfolded`] is at most
//! [`MAX_HEADER_LEN`] (998) octets, the RFC 5322 §2.1.1 line limit, and what Postfix writes for a
//! policy server's `PREPEND` without breaking the line (`smtp_line_length_limit`). Values from
//! outside longer than [`MAX_VALUE_LEN`] are cut first; when the header would still be too long,
//! the longest values from outside are shortened further, each to the same length, inside their
//! quoting: a cut value ends in `...` within its quotes or comment, and no escape is split. (For
//! [`AuthenticationResults`] this holds as long as what the caller writes itself, method, result
//! and property names, fits with every value cut to `"..."`.)
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
//!      client-ip=192.0.2.7; envelope-from=\"alice@example.com\"; helo=mail.example.com; \
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

/// The longest header field built here, `Name: value` on one line, in octets (RFC 5322 §2.1.1:
/// "Each line of characters MUST be no more than 998 characters").
pub const MAX_HEADER_LEN: usize = 998;

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
    /// `Name: value` on one line (as a Postfix policy `PREPEND` action or a milter wants it). For
    /// the headers of this module, at most [`MAX_HEADER_LEN`] octets.
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
    let Cleaned { mut text, cut } = Cleaned::new(text);
    if cut {
        text.push_str("...");
    }
    text
}

/// Text from outside as [`clean`] makes it, without the `...`: the header forms write a cut value
/// themselves, always quoted, so that it is never mistaken for the whole value.
struct Cleaned {
    /// At most [`MAX_VALUE_LEN`] bytes (and one character).
    text: String,
    /// Whether more text was dropped.
    cut: bool,
}

impl Cleaned {
    fn new(text: &str) -> Self {
        let mut out = String::with_capacity(text.len().min(MAX_VALUE_LEN + 3));
        for c in text.chars() {
            if out.len() >= MAX_VALUE_LEN {
                return Cleaned {
                    text: out,
                    cut: true,
                };
            }
            out.push(if c == ' ' || c.is_ascii_graphic() {
                c
            } else {
                '?'
            });
        }
        Cleaned {
            text: out,
            cut: false,
        }
    }
}

/// RFC 5322 `atext`.
fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c)
}

/// RFC 5322 `dot-atom-text`.
fn is_dot_atom(s: &str) -> bool {
    !s.is_empty()
        && s.split('.')
            .all(|part| !part.is_empty() && part.chars().all(is_atext))
}

/// An RFC 2045 `token` (allowed unquoted as an Authentication-Results `value`).
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_graphic() && !"()<>@,;:\\\"/[]?=".contains(c))
}

/// RFC 6376 `domain-name` (as RFC 8601 uses it): at least two RFC 5321 `sub-domain`s, letters,
/// digits and inner hyphens.
fn is_domain_name(s: &str) -> bool {
    let mut labels = 0;
    for label in s.split('.') {
        let b = label.as_bytes();
        let ldh = b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-');
        if b.is_empty() || !ldh || b[0] == b'-' || b[b.len() - 1] == b'-' {
            return false;
        }
        labels += 1;
    }
    labels >= 2
}

/// An Authentication-Results `pvalue` written without quotes: a `token`, or
/// `[local-part] "@" domain-name` with a `dot-atom` local part (RFC 8601 §2.2).
fn is_plain_pvalue(s: &str) -> bool {
    match s.rsplit_once('@') {
        Some((local, domain)) => (local.is_empty() || is_dot_atom(local)) && is_domain_name(domain),
        None => is_token(s),
    }
}

/// How a value from outside is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    /// Inside a comment: `(`, `)` and `\` escaped.
    Comment,
    /// `Received-SPF` (RFC 7208 §9.1): `dot-atom` or `quoted-string`.
    DotAtom,
    /// RFC 2045 `value`: `token` or `quoted-string`.
    Token,
    /// RFC 8601 `pvalue`: `token`, `local-part@domain-name`, or `quoted-string`.
    Pvalue,
    /// Always a `quoted-string`.
    Quoted,
}

impl Form {
    /// Whether `text` (cleaned) may be written as it is.
    fn plain(self, text: &str) -> bool {
        match self {
            Form::Comment => !text.chars().any(|c| self.escaped(c)),
            Form::DotAtom => is_dot_atom(text),
            Form::Token => is_token(text),
            Form::Pvalue => is_plain_pvalue(text),
            Form::Quoted => false,
        }
    }

    /// Whether `c` is written with a backslash in front.
    fn escaped(self, c: char) -> bool {
        match self {
            Form::Comment => matches!(c, '(' | ')' | '\\'),
            _ => matches!(c, '"' | '\\'),
        }
    }

    /// The shortest cut form: `...` in a comment, `"..."` for a value.
    fn min_len(self) -> usize {
        match self {
            Form::Comment => 3,
            _ => 5,
        }
    }

    /// Writes `value` in this form, in at most `cap` octets (never less than [`Form::min_len`]):
    /// whole if it is whole and fits, otherwise its longest prefix that fits with `...`, quoted (a
    /// cut value is never a `dot-atom` or a `token` one can mistake for the whole).
    fn write(self, value: &Cleaned, cap: usize, out: &mut String) {
        let text = value.text.as_str();
        let cap = cap.max(self.min_len());
        let width = |c: char| 1 + usize::from(self.escaped(c));
        let plain = self.plain(text);
        let quotes = if self == Form::Comment { 0 } else { 2 };
        let full = if plain {
            text.len()
        } else {
            quotes + text.chars().map(width).sum::<usize>()
        };
        if !value.cut && full <= cap {
            if plain {
                out.push_str(text);
            } else {
                self.push_escaped(text, out);
            }
            return;
        }
        // Cut: the escaped prefix, `...`, and the quotes.
        let room = cap - quotes - 3;
        let mut used = 0;
        let mut end = 0;
        for (i, c) in text.char_indices() {
            if used + width(c) > room {
                break;
            }
            used += width(c);
            end = i + c.len_utf8();
        }
        let mut cut = String::with_capacity(end + 3);
        cut.push_str(&text[..end]);
        cut.push_str("...");
        self.push_escaped(&cut, out);
    }

    /// `text` with this form's escapes, in quotes unless in a comment.
    fn push_escaped(self, text: &str, out: &mut String) {
        let quoted = self != Form::Comment;
        if quoted {
            out.push('"');
        }
        for c in text.chars() {
            if self.escaped(c) {
                out.push('\\');
            }
            out.push(c);
        }
        if quoted {
            out.push('"');
        }
    }
}

/// A header value under construction: fixed text and values from outside, which [`Fitted::finish`]
/// shortens until the header fits [`MAX_HEADER_LEN`].
#[derive(Default)]
struct Fitted {
    parts: Vec<Part>,
}

/// A piece of a [`Fitted`] header value.
enum Part {
    /// Fixed text.
    Text(String),
    /// A value from outside, in its form.
    Value(Form, Cleaned),
}

impl Fitted {
    /// Fixed text, written as it is.
    fn text(&mut self, text: &str) {
        match self.parts.last_mut() {
            Some(Part::Text(last)) => last.push_str(text),
            _ => self.parts.push(Part::Text(text.to_string())),
        }
    }

    /// A value from outside (cleaned here), in `form`.
    fn value(&mut self, form: Form, text: &str) {
        self.parts.push(Part::Value(form, Cleaned::new(text)));
    }

    fn render(&self, cap: usize) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Value(form, value) => form.write(value, cap, &mut out),
            }
        }
        out
    }

    /// The header: values whole if it fits, otherwise all values cut to the largest common length
    /// that fits (the length of each written value grows with the cap, so a binary search finds
    /// it).
    fn finish(self, name: &'static str) -> Header {
        let budget = MAX_HEADER_LEN - name.len() - 2;
        let mut value = self.render(usize::MAX);
        if value.len() > budget {
            let (mut lo, mut hi) = (0, value.len());
            while lo < hi {
                let mid = lo + (hi - lo).div_ceil(2);
                if self.render(mid).len() <= budget {
                    lo = mid;
                } else {
                    hi = mid - 1;
                }
            }
            value = self.render(lo);
        }
        Header { name, value }
    }
}

/// A header value that is safe to write after `key=` in `Received-SPF` (RFC 7208 §9.1):
/// unchanged when it is a `dot-atom`, otherwise a `quoted-string` with `"` and `\` escaped.
/// Control characters and non-ASCII become `?`; values longer than [`MAX_VALUE_LEN`] are cut.
///
/// ```
/// use sender_identity::headers::quote_value;
/// assert_eq!(quote_value("mail.example.com"), "mail.example.com");
/// assert_eq!(quote_value("a@example.com"), "\"a@example.com\"");
/// assert_eq!(quote_value("[192.0.2.1]"), "\"[192.0.2.1]\"");
/// assert_eq!(quote_value("x\r\nBcc: evil;\"q\""), "\"x??Bcc: evil;\\\"q\\\"\"");
/// assert_eq!(quote_value(""), "\"\"");
/// ```
pub fn quote_value(text: &str) -> String {
    let mut out = String::new();
    Form::DotAtom.write(&Cleaned::new(text), usize::MAX, &mut out);
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
    let mut out = String::new();
    Form::Comment.write(&Cleaned::new(text), usize::MAX, &mut out);
    out
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
///
/// Its [`header`](Self::header) is at most [`MAX_HEADER_LEN`] octets on one line, whatever the
/// HELO name, sender, receiver name and DNS data (see [Length](self#length)).
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
    fn comment(&self, v: &mut Fitted) {
        if let Some(r) = self.receiver {
            v.value(Form::Comment, r);
            v.text(": ");
        }
        let who = |v: &mut Fitted| match self.out.identity {
            Identity::MailFrom if !self.envelope_from.is_empty() => {
                v.value(Form::Comment, self.envelope_from)
            }
            _ => {
                v.text("postmaster@");
                v.value(Form::Comment, self.out.domain());
            }
        };
        let ip = self.client_ip.to_string();
        let domain = |v: &mut Fitted| v.value(Form::Comment, self.out.domain());
        match self.out.result {
            SpfResult::Pass => {
                v.text("domain of ");
                who(v);
                v.text(&format!(" designates {ip} as permitted sender"));
            }
            SpfResult::Fail => {
                v.text("domain of ");
                who(v);
                v.text(&format!(" does not designate {ip} as permitted sender"));
            }
            SpfResult::Softfail => {
                v.text("transitioning domain of ");
                who(v);
                v.text(&format!(" does not designate {ip} as permitted sender"));
            }
            SpfResult::Neutral => {
                v.text(&format!(
                    "{ip} is neither permitted nor denied by domain of "
                ));
                who(v);
            }
            SpfResult::None => {
                domain(v);
                v.text(" does not designate permitted sender hosts");
            }
            SpfResult::Temperror => {
                v.text("error in processing during lookup of ");
                domain(v);
            }
            SpfResult::Permerror => {
                v.text("permanent error in processing domain of ");
                domain(v);
            }
        }
    }

    /// The header field, at most [`MAX_HEADER_LEN`] octets unfolded.
    pub fn header(&self) -> Header {
        let mut v = Fitted::default();
        v.text(self.out.result.as_str());
        v.text(" (");
        self.comment(&mut v);
        v.text(")");
        let mut first = true;
        let mut key = |v: &mut Fitted, k: &str, value: &str| {
            v.text(if first { " " } else { "; " });
            first = false;
            v.text(k);
            v.text("=");
            v.value(Form::DotAtom, value);
        };
        key(&mut v, "client-ip", &self.client_ip.to_string());
        if self.out.identity == Identity::MailFrom {
            let from = match self.envelope_from {
                "" => format!("postmaster@{}", self.helo),
                from => from.to_string(),
            };
            key(&mut v, "envelope-from", &from);
        }
        key(&mut v, "helo", self.helo);
        if let Some(problem) = problem(self.out) {
            key(&mut v, "problem", &problem);
        }
        if let Some(r) = self.receiver {
            key(&mut v, "receiver", r);
        }
        key(&mut v, "identity", self.out.identity.as_str());
        if let Some(m) = mechanism(self.out) {
            key(&mut v, "mechanism", &m);
        }
        v.finish("Received-SPF")
    }
}

/// One `method=result` entry of an `Authentication-Results` header, with its reason, properties
/// and comment.
///
/// The method, result and property names are the caller's and are written as given: they must be
/// RFC 8601 keywords (`spf`, `pass`, `smtp.mailfrom`, ...). Reasons, property values and comments
/// may come from anywhere: they are quoted or escaped as their grammar needs.
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
    /// it. The value is written unquoted when RFC 8601 allows it (a `token`, or
    /// `local-part@domain-name`), otherwise as a `quoted-string`.
    pub fn property(mut self, name: &str, value: &str, comment: Option<&str>) -> Self {
        self.properties.push((
            name.to_string(),
            value.to_string(),
            comment.map(str::to_string),
        ));
        self
    }

    fn write(&self, v: &mut Fitted) {
        v.text(&format!("; {}={}", self.method, self.result));
        if let Some(reason) = &self.reason {
            v.text(" reason=");
            v.value(Form::Quoted, reason);
        }
        for (name, value, comment) in &self.properties {
            v.text(&format!(" {name}="));
            v.value(Form::Pvalue, value);
            if let Some(c) = comment {
                v.text(" (");
                v.value(Form::Comment, c);
                v.text(")");
            }
        }
    }
}

/// An `Authentication-Results` header field (RFC 8601) built from check results.
///
/// Its [`header`](Self::header) is at most [`MAX_HEADER_LEN`] octets on one line, as long as the
/// caller's own text (method, result and property names) leaves room (see [Length](self#length)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticationResults {
    authserv_id: String,
    results: Vec<MethodResult>,
}

impl AuthenticationResults {
    /// A header for the verifier `authserv_id` (usually its host name; quoted unless it is a
    /// `token`).
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
        let mut v = Fitted::default();
        v.value(Form::Token, &self.authserv_id);
        if self.results.is_empty() {
            v.text("; none");
        }
        for r in &self.results {
            r.write(&mut v);
        }
        v.finish("Authentication-Results")
    }
}
