//! Strict parsers for the two trace headers, written from the RFC grammars for the tests (they
//! share no code with `sender_identity::headers`): `Received-SPF` (RFC 7208 §9.1) and
//! `Authentication-Results` (RFC 8601 §2.2), over the RFC 5322 lexical tokens (FWS, comments,
//! quoted strings, dot-atoms; no obsolete syntax). Each parser takes a whole field, folded or not,
//! without the final CRLF, and gives the decoded values (quoted strings unescaped, folding
//! removed), or where the field breaks the grammar. [`is_input`] compares a decoded value with the
//! text the header was built from, as the crate documents it treats outside text.
#![allow(dead_code)]

/// A decoded `Received-SPF` field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedSpf {
    /// `pass`, `fail`, ...
    pub result: String,
    /// The comment's text, unescaped, if there is one.
    pub comment: Option<String>,
    /// `key=value` pairs in order, values decoded.
    pub pairs: Vec<(String, String)>,
}

impl ReceivedSpf {
    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }
}

/// One `resinfo` of an `Authentication-Results` field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResInfo {
    /// The method (`spf`, `iprev`, ...).
    pub method: String,
    /// Its result.
    pub result: String,
    /// The `reason=` value, decoded.
    pub reason: Option<String>,
    /// `(ptype.property, value)`, values decoded.
    pub properties: Vec<(String, String)>,
}

/// A decoded `Authentication-Results` field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthResults {
    /// The authserv-id, decoded.
    pub authserv_id: String,
    /// The results (empty for `none`).
    pub results: Vec<ResInfo>,
}

type Res<T> = Result<T, String>;

struct P<'a> {
    s: &'a [u8],
    pos: usize,
}

fn is_wsp(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

fn is_vchar(b: u8) -> bool {
    (33..=126).contains(&b)
}

/// RFC 5322 `atext`.
fn is_atext(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&b)
}

/// RFC 2045 token characters: not SPACE, not CTL, not tspecials.
fn is_token_char(b: u8) -> bool {
    is_vchar(b) && !b"()<>@,;:\\\"/[]?=".contains(&b)
}

impl<'a> P<'a> {
    fn new(s: &'a str) -> Self {
        P {
            s: s.as_bytes(),
            pos: 0,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn err<T>(&self, what: &str) -> Res<T> {
        let text = String::from_utf8_lossy(self.s);
        let at = self.pos.min(self.s.len());
        Err(format!(
            "{what} at byte {at}: ...{:?}... in {text:?}",
            String::from_utf8_lossy(&self.s[at..(at + 40).min(self.s.len())])
        ))
    }

    fn expect(&mut self, b: u8) -> Res<()> {
        if self.peek() == Some(b) {
            self.pos += 1;
            Ok(())
        } else {
            self.err(&format!("expected {:?}", b as char))
        }
    }

    fn literal_ci(&mut self, lit: &str) -> bool {
        let end = self.pos + lit.len();
        if end <= self.s.len() && self.s[self.pos..end].eq_ignore_ascii_case(lit.as_bytes()) {
            self.pos = end;
            true
        } else {
            false
        }
    }

    /// FWS = ([*WSP CRLF] 1*WSP). Returns the unfolded whitespace (CRLF removed), or `None`
    /// (nothing consumed) when there is none.
    fn fws(&mut self) -> Option<String> {
        let start = self.pos;
        let mut out = String::new();
        while let Some(b) = self.peek().filter(|b| is_wsp(*b)) {
            out.push(b as char);
            self.pos += 1;
        }
        if self.s[self.pos..].starts_with(b"\r\n")
            && self.s.get(self.pos + 2).copied().is_some_and(is_wsp)
        {
            self.pos += 2;
            while let Some(b) = self.peek().filter(|b| is_wsp(*b)) {
                out.push(b as char);
                self.pos += 1;
            }
        }
        if self.pos == start { None } else { Some(out) }
    }

    /// quoted-pair = "\" (VCHAR / WSP)
    fn quoted_pair(&mut self) -> Res<char> {
        self.expect(b'\\')?;
        match self.peek() {
            Some(b) if is_vchar(b) || is_wsp(b) => {
                self.pos += 1;
                Ok(b as char)
            }
            _ => self.err("bad quoted-pair"),
        }
    }

    /// comment = "(" *([FWS] ccontent) [FWS] ")"; the decoded text (nested comments keep their
    /// parentheses).
    fn comment(&mut self) -> Res<String> {
        self.expect(b'(')?;
        let mut out = String::new();
        loop {
            if let Some(ws) = self.fws() {
                out.push_str(&ws);
            }
            match self.peek() {
                Some(b')') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'(') => {
                    let inner = self.comment()?;
                    out.push('(');
                    out.push_str(&inner);
                    out.push(')');
                }
                Some(b'\\') => out.push(self.quoted_pair()?),
                // ctext = %d33-39 / %d42-91 / %d93-126
                Some(b)
                    if (33..=39).contains(&b)
                        || (42..=91).contains(&b)
                        || (93..=126).contains(&b) =>
                {
                    out.push(b as char);
                    self.pos += 1;
                }
                _ => return self.err("bad comment content"),
            }
        }
    }

    /// CFWS = (1*([FWS] comment) [FWS]) / FWS; the comments' texts. Optional: consumes nothing
    /// when there is none.
    fn cfws(&mut self) -> Res<Vec<String>> {
        let mut comments = Vec::new();
        loop {
            let before = self.pos;
            self.fws();
            if self.peek() == Some(b'(') {
                comments.push(self.comment()?);
            } else {
                // Keep the FWS consumed (it is the trailing [FWS]).
                let _ = before;
                return Ok(comments);
            }
        }
    }

    /// quoted-string = [CFWS] DQUOTE *([FWS] qcontent) [FWS] DQUOTE [CFWS], without the CFWS.
    fn quoted_string(&mut self) -> Res<String> {
        self.expect(b'"')?;
        let mut out = String::new();
        loop {
            if let Some(ws) = self.fws() {
                out.push_str(&ws);
            }
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => out.push(self.quoted_pair()?),
                // qtext = %d33 / %d35-91 / %d93-126
                Some(b) if b == 33 || (35..=91).contains(&b) || (93..=126).contains(&b) => {
                    out.push(b as char);
                    self.pos += 1;
                }
                _ => return self.err("bad quoted-string content"),
            }
        }
    }

    /// dot-atom-text = 1*atext *("." 1*atext)
    fn dot_atom_text(&mut self) -> Res<String> {
        let start = self.pos;
        loop {
            let label = self.pos;
            while self.peek().is_some_and(is_atext) {
                self.pos += 1;
            }
            if self.pos == label {
                return self.err("empty dot-atom label");
            }
            if self.peek() == Some(b'.') {
                self.pos += 1;
            } else {
                break;
            }
        }
        Ok(String::from_utf8(self.s[start..self.pos].to_vec()).unwrap())
    }

    /// RFC 5321 Keyword = Ldh-str = *( ALPHA / DIGIT / "-" ) Let-dig
    fn keyword(&mut self) -> Res<String> {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            self.pos += 1;
        }
        let word = &self.s[start..self.pos];
        if word.is_empty() || word.ends_with(b"-") {
            self.pos = start;
            return self.err("expected a keyword");
        }
        Ok(String::from_utf8(word.to_vec()).unwrap())
    }

    /// RFC 2045 value = token / quoted-string
    fn value(&mut self) -> Res<String> {
        if self.peek() == Some(b'"') {
            return self.quoted_string();
        }
        let start = self.pos;
        while self.peek().is_some_and(is_token_char) {
            self.pos += 1;
        }
        if self.pos == start {
            return self.err("expected a token or quoted-string");
        }
        Ok(String::from_utf8(self.s[start..self.pos].to_vec()).unwrap())
    }

    /// RFC 6376 domain-name = sub-domain 1*("." sub-domain), RFC 5321 sub-domain.
    fn domain_name(&mut self) -> Res<String> {
        let start = self.pos;
        let mut labels = 0;
        loop {
            let label = self.pos;
            while self
                .peek()
                .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'-')
            {
                self.pos += 1;
            }
            let l = &self.s[label..self.pos];
            if l.is_empty() || l[0] == b'-' || l[l.len() - 1] == b'-' {
                return self.err("bad sub-domain");
            }
            labels += 1;
            if self.peek() == Some(b'.') {
                self.pos += 1;
            } else {
                break;
            }
        }
        if labels < 2 {
            return self.err("a domain-name has at least two labels");
        }
        Ok(String::from_utf8(self.s[start..self.pos].to_vec()).unwrap())
    }

    /// pvalue = [CFWS] ( value / [ [ local-part ] "@" ] domain-name ) [CFWS]
    fn pvalue(&mut self) -> Res<String> {
        self.cfws()?;
        let out = if self.peek() == Some(b'"') {
            let q = self.quoted_string()?;
            if self.peek() == Some(b'@') {
                self.pos += 1;
                let domain = self.domain_name()?;
                format!("\"{q}\"@{domain}")
            } else {
                q
            }
        } else {
            // A token, or an address: the run up to what neither may hold.
            let start = self.pos;
            while self
                .peek()
                .is_some_and(|b| is_vchar(b) && !b"();\"".contains(&b))
            {
                self.pos += 1;
            }
            let run = std::str::from_utf8(&self.s[start..self.pos]).unwrap();
            if !run.is_empty() && run.bytes().all(is_token_char) {
                run.to_string()
            } else if let Some((local, _)) = run.rsplit_once('@') {
                self.pos = start;
                if !local.is_empty() {
                    let l = self.dot_atom_text()?;
                    if l != local {
                        return self.err("local-part is not a dot-atom");
                    }
                }
                self.expect(b'@')?;
                let domain = self.domain_name()?;
                if self.pos != start + run.len() {
                    return self.err("junk after the domain-name");
                }
                format!("{local}@{domain}")
            } else {
                self.pos = start;
                return self.err("pvalue is neither a token, an address nor a quoted-string");
            }
        };
        self.cfws()?;
        Ok(out)
    }
}

/// Parses a whole `Received-SPF:` field (RFC 7208 §9.1):
///
/// ```text
/// header-field   = "Received-SPF:" [CFWS] result FWS [comment FWS] [ key-value-list ] CRLF
/// key-value-list = key-value-pair *( ";" [CFWS] key-value-pair ) [";"]
/// key-value-pair = key [CFWS] "=" ( dot-atom / quoted-string )
/// key            = name ; ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )
/// ```
pub fn parse_received_spf(field: &str) -> Res<ReceivedSpf> {
    let mut p = P::new(field);
    if !p.literal_ci("Received-SPF:") {
        return p.err("expected Received-SPF:");
    }
    p.cfws()?;
    let results = [
        "softfail",
        "pass",
        "fail",
        "neutral",
        "none",
        "temperror",
        "permerror",
    ];
    let Some(result) = results.iter().find(|r| p.literal_ci(r)) else {
        return p.err("expected a result");
    };
    if p.fws().is_none() {
        return p.err("expected FWS after the result");
    }
    let mut comment = None;
    if p.peek() == Some(b'(') {
        comment = Some(p.comment()?);
        if p.fws().is_none() {
            return p.err("expected FWS after the comment");
        }
    }
    let mut pairs: Vec<(String, String)> = Vec::new();
    while p.pos < p.s.len() {
        if !pairs.is_empty() {
            p.expect(b';')?;
            p.cfws()?;
            if p.pos == p.s.len() {
                break; // the optional final ";"
            }
        }
        // key = name
        let start = p.pos;
        if !p.peek().is_some_and(|b| b.is_ascii_alphabetic()) {
            return p.err("expected a key");
        }
        while p
            .peek()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        {
            p.pos += 1;
        }
        let key = String::from_utf8(p.s[start..p.pos].to_vec()).unwrap();
        p.cfws()?;
        p.expect(b'=')?;
        // dot-atom = [CFWS] dot-atom-text [CFWS]; quoted-string = [CFWS] DQUOTE ... [CFWS]
        p.cfws()?;
        let value = if p.peek() == Some(b'"') {
            p.quoted_string()?
        } else {
            p.dot_atom_text()?
        };
        p.cfws()?;
        pairs.push((key, value));
    }
    Ok(ReceivedSpf {
        result: result.to_string(),
        comment,
        pairs,
    })
}

/// Parses a whole `Authentication-Results:` field (RFC 8601 §2.2):
///
/// ```text
/// authres-header = "Authentication-Results:" [CFWS] authserv-id [ CFWS authres-version ]
///                  ( no-result / 1*resinfo ) [CFWS] CRLF
/// no-result      = [CFWS] ";" [CFWS] "none"
/// resinfo        = [CFWS] ";" methodspec [ CFWS reasonspec ] [ CFWS 1*propspec ]
/// methodspec     = [CFWS] method [CFWS] "=" [CFWS] result
/// reasonspec     = "reason" [CFWS] "=" [CFWS] value
/// propspec       = ptype [CFWS] "." [CFWS] property [CFWS] "=" pvalue
/// pvalue         = [CFWS] ( value / [ [ local-part ] "@" ] domain-name ) [CFWS]
/// ```
pub fn parse_authentication_results(field: &str) -> Res<AuthResults> {
    let mut p = P::new(field);
    if !p.literal_ci("Authentication-Results:") {
        return p.err("expected Authentication-Results:");
    }
    p.cfws()?;
    let authserv_id = p.value()?;
    p.cfws()?;
    if p.peek().is_some_and(|b| b.is_ascii_digit()) {
        while p.peek().is_some_and(|b| b.is_ascii_digit()) {
            p.pos += 1;
        }
        p.cfws()?;
    }
    let mut results = Vec::new();
    loop {
        p.cfws()?;
        if p.pos == p.s.len() {
            break;
        }
        p.expect(b';')?;
        p.cfws()?;
        if results.is_empty() && p.literal_ci("none") {
            p.cfws()?;
            if p.pos != p.s.len() {
                return p.err("junk after none");
            }
            return Ok(AuthResults {
                authserv_id,
                results,
            });
        }
        let method = p.keyword()?;
        p.cfws()?;
        p.expect(b'=')?;
        p.cfws()?;
        let result = p.keyword()?;
        let mut info = ResInfo {
            method,
            result,
            reason: None,
            properties: Vec::new(),
        };
        // [CFWS reasonspec]
        let save = p.pos;
        p.cfws()?;
        if p.literal_ci("reason") {
            p.cfws()?;
            p.expect(b'=')?;
            p.cfws()?;
            info.reason = Some(p.value()?);
        } else {
            p.pos = save;
        }
        // [CFWS 1*propspec]
        loop {
            let save = p.pos;
            p.cfws()?;
            let Ok(ptype) = p.keyword() else {
                p.pos = save;
                break;
            };
            p.cfws()?;
            p.expect(b'.')?;
            p.cfws()?;
            let property = p.keyword()?;
            p.cfws()?;
            p.expect(b'=')?;
            let value = p.pvalue()?;
            info.properties.push((format!("{ptype}.{property}"), value));
        }
        results.push(info);
    }
    if results.is_empty() {
        return p.err("expected resinfo or none");
    }
    Ok(AuthResults {
        authserv_id,
        results,
    })
}

/// What the crate documents it does to a value from outside before quoting: control characters
/// and non-ASCII become `?`, and more than `headers::MAX_VALUE_LEN` bytes are cut with `...`.
pub fn cleaned(text: &str) -> String {
    let mapped: String = text
        .chars()
        .map(|c| {
            if c == ' ' || c.is_ascii_graphic() {
                c
            } else {
                '?'
            }
        })
        .collect();
    if mapped.len() > sender_identity::headers::MAX_VALUE_LEN {
        format!("{}...", &mapped[..sender_identity::headers::MAX_VALUE_LEN])
    } else {
        mapped
    }
}

/// Whether `decoded` (a value read back from a header) is `input` as documented: whole, or a
/// prefix of it cut with `...` to make the header fit.
pub fn is_input(decoded: &str, input: &str) -> bool {
    let want = cleaned(input);
    decoded == want
        || decoded
            .strip_suffix("...")
            .is_some_and(|prefix| want.starts_with(prefix))
}

#[test]
fn the_parsers_refuse_what_the_grammars_refuse() {
    // Accepted.
    let r = parse_received_spf(
        "Received-SPF: pass (a \\(b\\) c) client-ip=192.0.2.1; helo=\"a\\\"b\"; x=y=z;",
    )
    .unwrap();
    assert_eq!(r.comment.as_deref(), Some("a (b) c"));
    assert_eq!(r.get("helo"), Some("a\"b"));
    assert_eq!(r.get("x"), Some("y=z"));
    let a = parse_authentication_results(
        "Authentication-Results: mx.example; spf=pass smtp.mailfrom=a@b.example\r\n\t(c) \
         smtp.helo=\"spf=pass\"; iprev=fail policy.iprev=\"::1\"",
    )
    .unwrap();
    assert_eq!(a.results[0].properties[0].1, "a@b.example");
    assert_eq!(a.results[0].properties[1].1, "spf=pass");
    // Refused.
    for bad in [
        "Received-SPF: pass client-ip=192.0.2.1; envelope-from=a@b.example",
        "Received-SPF: pass (x client-ip=1",
        "Received-SPF: pass helo=\"x",
        "Received-SPF: pass helo=a b",
        "Received-SPF: Pass2 helo=a",
        "Received-SPF: pass helo=a..b",
    ] {
        assert!(parse_received_spf(bad).is_err(), "{bad}");
    }
    for bad in [
        "Authentication-Results: mx; spf=pass smtp.helo=spf=pass",
        "Authentication-Results: mx; spf=pass smtp.mailfrom=a@spf=pass",
        "Authentication-Results: mx; spf=pass smtp.mailfrom=a@localhost",
        "Authentication-Results: mx; spf=pass smtp.helo=a/b",
        "Authentication-Results: mx; spf=pass smtp.helo=a?",
        "Authentication-Results: a@b.example; none",
        "Authentication-Results: mx; spf=pass reason=a b",
        "Authentication-Results: mx",
    ] {
        assert!(parse_authentication_results(bad).is_err(), "{bad}");
    }
}
