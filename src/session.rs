//! One API per SMTP connection: feed each stage (connect, HELO, MAIL FROM), get back what to answer
//! and which headers to add.
//!
//! A [`Checker`] holds the resolver, the SPF configuration and a [`Policy`]; it is `Send + Sync`
//! and cheap to clone (one `Arc`), so one checker serves every connection. Each connection gets a
//! [`Session`] from [`Checker::connect`]. Every stage returns a [`Verdict`]: accept, tag, defer or
//! reject, with a suggested SMTP [`Reply`] (RFC 7208 §8 and RFC 7372 codes by default) and the
//! reason. [`Session::headers`] gives the `Received-SPF` and `Authentication-Results` fields.
//!
//! ```
//! use sender_identity::dns::ZoneResolver;
//! use sender_identity::session::{Action, Checker, Policy};
//!
//! let zone: ZoneResolver = r#"
//!     example.com.      TXT "v=spf1 a:mail.example.com -all"
//!     mail.example.com. A   192.0.2.10
//!     192.0.2.10        PTR mail.example.com
//! "#.parse().unwrap();
//! let checker = Checker::new(zone, Policy::new("mx.example.net"));
//! # let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
//! # rt.block_on(async {
//! let (mut session, verdict) = checker.connect("192.0.2.10".parse().unwrap()).await;
//! assert_eq!(verdict.action, Action::Accept);
//! assert_eq!(session.helo("mail.example.com").await.action, Action::Accept);
//! assert_eq!(session.mail_from("alice@example.com").await.action, Action::Accept);
//! let headers: Vec<String> = session.headers().iter().map(|h| h.unfolded()).collect();
//! assert!(headers[0].starts_with("Received-SPF: pass"));
//! assert!(headers[1].contains("spf=pass smtp.mailfrom=alice@example.com"));
//! assert!(headers[1].contains("iprev=pass policy.iprev=192.0.2.10 (mail.example.com)"));
//!
//! // Another client, forging the sender: rejected with 550 5.7.23.
//! let (mut session, _) = checker.connect("203.0.113.9".parse().unwrap()).await;
//! session.helo("mail.example.com").await;
//! let verdict = session.mail_from("alice@example.com").await;
//! assert_eq!(verdict.action, Action::Reject);
//! assert_eq!(verdict.reply.unwrap().to_string(), "550 5.7.23 SPF validation failed: 203.0.113.9 is not allowed to send mail for example.com");
//! # });
//! ```

use crate::deadline::within;
use crate::dns::Resolver;
use crate::envelope;
use crate::headers::{self, AuthenticationResults, Header, MethodResult, ReceivedSpf};
use crate::helo::{self, ExistsOptions, HeloName, HeloOutcome, HeloPolicy, HeloResult};
use crate::iprev::{self, IprevOptions, IprevOutput, IprevResult};
use crate::relay::{RelayDecision, RelayPolicy};
use crate::spf::{Config, Identity, RecordCache, SpfOutput, SpfResult, Verifier};
use std::fmt;
use std::future::{Future, poll_fn};
use std::net::IpAddr;
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

/// What to do with the client at a stage, from the mildest to the most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Action {
    /// Go on.
    Accept,
    /// Go on, but mark the message (the headers say why; a filter may score it).
    Tag,
    /// Answer with a temporary failure (4xx).
    Defer,
    /// Answer with a permanent failure (5xx).
    Reject,
}

/// A suggested SMTP reply: code, enhanced status code (RFC 3463) and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The reply code, e.g. 550.
    pub code: u16,
    /// The enhanced status code, e.g. `5.7.23`.
    pub status: String,
    /// The text: printable ASCII only (client and DNS text is cleaned).
    pub text: String,
}

impl Reply {
    fn new(code: u16, status: &str, text: &str) -> Self {
        Reply {
            code,
            status: status.to_string(),
            text: headers::clean(text),
        }
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.code, self.status, self.text)
    }
}

/// The outcome of a stage: what to do, the reply to send when deferring or rejecting, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// What to do.
    pub action: Action,
    /// The reply for [`Action::Defer`] and [`Action::Reject`].
    pub reply: Option<Reply>,
    /// Why, for logs: one line per check that was not a plain accept.
    pub reasons: Vec<String>,
}

impl Verdict {
    fn accept() -> Self {
        Verdict {
            action: Action::Accept,
            reply: None,
            reasons: Vec::new(),
        }
    }

    /// Adds a check's outcome: the most severe action wins, and its reply with it.
    fn add(&mut self, action: Action, reply: impl FnOnce() -> Reply, reason: String) {
        if action > Action::Accept {
            self.reasons.push(reason);
        }
        if action > self.action {
            self.action = action;
            self.reply = matches!(action, Action::Defer | Action::Reject).then(reply);
        }
    }
}

/// What to do for each SPF result. The default follows RFC 7208 §8: reject on fail, defer on
/// temperror, tag softfail and permerror, accept the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SpfActions {
    /// On fail (default reject: 550 5.7.23).
    pub fail: Action,
    /// On softfail (default tag).
    pub softfail: Action,
    /// On neutral (default accept).
    pub neutral: Action,
    /// On none (default accept).
    pub none: Action,
    /// On temperror (default defer: 451 4.4.3).
    pub temperror: Action,
    /// On permerror (default tag; reject gives 550 5.7.24).
    pub permerror: Action,
}

impl Default for SpfActions {
    fn default() -> Self {
        SpfActions {
            fail: Action::Reject,
            softfail: Action::Tag,
            neutral: Action::Accept,
            none: Action::Accept,
            temperror: Action::Defer,
            permerror: Action::Tag,
        }
    }
}

impl SpfActions {
    /// Tags every non-pass result and never rejects or defers (a "tag only" policy).
    pub fn tag_only() -> Self {
        SpfActions {
            fail: Action::Tag,
            softfail: Action::Tag,
            neutral: Action::Accept,
            none: Action::Accept,
            temperror: Action::Tag,
            permerror: Action::Tag,
        }
    }

    fn action(&self, result: SpfResult) -> Action {
        match result {
            SpfResult::Fail => self.fail,
            SpfResult::Softfail => self.softfail,
            SpfResult::Neutral => self.neutral,
            SpfResult::None => self.none,
            SpfResult::Temperror => self.temperror,
            SpfResult::Permerror => self.permerror,
            _ => Action::Accept,
        }
    }
}

/// What a [`Checker`] checks and how it answers.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Policy {
    /// The receiver's host name: the `authserv-id` of `Authentication-Results`, `receiver=` of
    /// `Received-SPF`, and `%{r}` in SPF explanations (and so in SMTP replies that quote them).
    /// It is the only copy: [`Checker::new`] sets `spf.receiver` from it.
    pub authserv_id: String,
    /// The HELO/EHLO syntax rules (default [`HeloPolicy::Strict`]).
    pub helo_syntax: HeloPolicy,
    /// What to do with a HELO the syntax rules refuse (default reject, with the rules' reply).
    pub helo_invalid: Action,
    /// How the HELO name is looked up for [`helo_unknown`](Self::helo_unknown) (default
    /// [`ExistsOptions::default`]; [`ExistsOptions::postfix`] refuses a trailing dot unasked).
    pub helo_exists: ExistsOptions,
    /// What to do when the HELO name has no A, AAAA or MX records, or, with
    /// [`ExistsOptions::postfix`], ends in a dot (default tag; Postfix
    /// `reject_unknown_helo_hostname` would reject with 450 4.7.1).
    pub helo_unknown: Action,
    /// What to do when the HELO does not lead back to the client (default tag: RFC 5321 §4.1.4
    /// says a server MUST NOT refuse a message for this alone).
    pub helo_mismatch: Action,
    /// SPF actions for the HELO identity.
    pub spf_helo: SpfActions,
    /// SPF actions for the MAIL FROM identity.
    pub spf_mail_from: SpfActions,
    /// What to do when FCrDNS fails (default tag; reject gives 550 5.7.25).
    pub iprev_fail: Action,
    /// What to do when the client has no PTR (iprev permerror; default tag).
    pub iprev_permerror: Action,
    /// What to do on an iprev temperror (default tag; defer gives 451 4.7.25).
    pub iprev_temperror: Action,
    /// How iprev looks names up.
    pub iprev: IprevOptions,
    /// Who may relay.
    pub relay: RelayPolicy,
    /// The SPF evaluation settings. Their `receiver` is not read: [`Checker::new`] replaces it
    /// with [`authserv_id`](Self::authserv_id).
    pub spf: Config,
    /// The longest a stage's DNS work may take (the iprev check at connect; the HELO existence and
    /// confirmation lookups); running out gives temperror for the unfinished checks. SPF has its
    /// own limit, [`Config::timeout`]; both are kept the same way, on any executor (a Tokio runtime
    /// without the time driver too). Default 20 s.
    pub timeout: Duration,
}

impl Policy {
    /// The default policy for a receiver called `authserv_id`.
    pub fn new(authserv_id: &str) -> Self {
        Policy {
            authserv_id: authserv_id.to_string(),
            helo_syntax: HeloPolicy::default(),
            helo_invalid: Action::Reject,
            helo_exists: ExistsOptions::default(),
            helo_unknown: Action::Tag,
            helo_mismatch: Action::Tag,
            spf_helo: SpfActions::default(),
            spf_mail_from: SpfActions::default(),
            iprev_fail: Action::Tag,
            iprev_permerror: Action::Tag,
            iprev_temperror: Action::Tag,
            iprev: IprevOptions::default(),
            relay: RelayPolicy::default(),
            spf: Config::default(),
            timeout: Duration::from_secs(20),
        }
    }
}

/// The checks for every connection of a server: the resolver, the SPF verifier (with a shared
/// record cache) and the policy. Cheap to clone.
pub struct Checker<R> {
    inner: Arc<Inner<R>>,
}

struct Inner<R> {
    spf: Verifier<R>,
    policy: Policy,
}

impl<R> Clone for Checker<R> {
    fn clone(&self) -> Self {
        Checker {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<R> fmt::Debug for Checker<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Checker")
            .field("policy", &self.inner.policy)
            .finish_non_exhaustive()
    }
}

impl<R: Resolver> Checker<R> {
    /// A checker over `resolver` with `policy`, caching up to 10,000 parsed SPF records. The SPF
    /// receiver name (`%{r}`) is set to `policy.authserv_id` here, so a name changed after
    /// [`Policy::new`] is the name every header and reply uses.
    pub fn new(resolver: R, mut policy: Policy) -> Self {
        policy.spf.receiver.clone_from(&policy.authserv_id);
        let spf = Verifier::with_config(resolver, policy.spf.clone())
            .with_cache(Arc::new(RecordCache::new(10_000)));
        Checker {
            inner: Arc::new(Inner { spf, policy }),
        }
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.inner.policy
    }

    /// A new connection from `client`: decides FCrDNS (iprev) and returns the session and the
    /// verdict for the connection stage.
    pub async fn connect(&self, client: IpAddr) -> (Session<R>, Verdict) {
        let client = crate::ip::canonical(client);
        let policy = &self.inner.policy;
        let check = iprev::check(self.resolver(), client, &policy.iprev);
        let iprev = within(Some(policy.timeout), check)
            .await
            .unwrap_or_else(|| IprevOutput::timed_out(client));
        let mut session = Session {
            checker: self.clone(),
            client,
            iprev: None,
            helo: None,
            spf_helo: None,
            spf_mail_from: None,
        };
        let verdict = session.iprev_verdict(&iprev);
        session.iprev = Some(iprev);
        (session, verdict)
    }

    fn resolver(&self) -> &R {
        self.inner.spf.resolver()
    }
}

/// The HELO stage's results.
#[derive(Debug, Clone)]
pub struct HeloChecks {
    /// The HELO/EHLO argument, classified.
    pub name: HeloName,
    /// Whether the name exists (A, AAAA or MX).
    pub exists: HeloOutcome,
    /// Whether the HELO leads back to the client.
    pub confirm: HeloOutcome,
}

/// One SMTP connection's checks, stage by stage.
#[derive(Debug)]
pub struct Session<R> {
    checker: Checker<R>,
    client: IpAddr,
    iprev: Option<IprevOutput>,
    helo: Option<HeloChecks>,
    spf_helo: Option<SpfOutput>,
    spf_mail_from: Option<(String, SpfOutput)>,
}

impl<R: Resolver> Session<R> {
    /// The client address (IPv4-mapped addresses folded).
    pub fn client(&self) -> IpAddr {
        self.client
    }

    /// The iprev result of the connection.
    pub fn iprev(&self) -> Option<&IprevOutput> {
        self.iprev.as_ref()
    }

    /// The HELO checks, after [`Session::helo`].
    pub fn helo_checks(&self) -> Option<&HeloChecks> {
        self.helo.as_ref()
    }

    /// The SPF result for the HELO identity, after [`Session::helo`].
    pub fn spf_helo(&self) -> Option<&SpfOutput> {
        self.spf_helo.as_ref()
    }

    /// The SPF result for the MAIL FROM identity, after [`Session::mail_from`].
    pub fn spf_mail_from(&self) -> Option<&SpfOutput> {
        self.spf_mail_from.as_ref().map(|(_, out)| out)
    }

    fn policy(&self) -> &Policy {
        &self.checker.inner.policy
    }

    fn iprev_verdict(&self, iprev: &IprevOutput) -> Verdict {
        let policy = self.policy();
        let mut verdict = Verdict::accept();
        let (action, status) = match iprev.result {
            IprevResult::Fail => (policy.iprev_fail, "fail"),
            IprevResult::PermError => (policy.iprev_permerror, "permerror"),
            IprevResult::TempError => (policy.iprev_temperror, "temperror"),
            _ => (Action::Accept, "pass"),
        };
        let client = self.client;
        verdict.add(
            action,
            || match action {
                Action::Defer => Reply::new(
                    451,
                    "4.7.25",
                    &format!("Reverse DNS lookup failed for {client}"),
                ),
                _ => Reply::new(
                    550,
                    "5.7.25",
                    &format!("Reverse DNS validation failed for {client}"),
                ),
            },
            format!("iprev={status} for {client}"),
        );
        verdict
    }

    /// The HELO/EHLO stage: syntax, existence, forward confirmation and SPF for the HELO identity,
    /// with their lookups run concurrently. A HELO given again replaces the earlier results.
    pub async fn helo(&mut self, arg: &str) -> Verdict {
        let name = HeloName::parse(arg);
        let checker = self.checker.clone();
        let policy = checker.policy();
        let resolver = checker.resolver();
        let mut verdict = Verdict::accept();
        if let Err(rejection) = policy.helo_syntax.check(arg) {
            verdict.add(
                policy.helo_invalid,
                || {
                    let status = rejection.enhanced.unwrap_or("5.5.2");
                    Reply::new(rejection.code, status, &rejection.reason.to_string())
                },
                format!(
                    "HELO {:?} refused: {} ({})",
                    headers::clean(arg),
                    rejection.reason,
                    name.describe()
                ),
            );
        }
        let limit = Some(policy.timeout);
        let timed_out = || HeloOutcome::new(HeloResult::TempError, Vec::new(), Vec::new());
        let (exists, confirm, spf) = join3(
            within(limit, helo::exists(resolver, &name, &policy.helo_exists)),
            within(limit, helo::confirm(resolver, &name, self.client)),
            checker.inner.spf.check_helo(self.client, arg),
        )
        .await;
        let (exists, confirm) = (
            exists.unwrap_or_else(timed_out),
            confirm.unwrap_or_else(timed_out),
        );
        let shown = headers::clean(arg);
        match exists.result {
            // A name that does not resolve, or not a name that can be looked up (a bare IP, a bad
            // name, a trailing dot under `ExistsOptions::postfix`): Postfix answers both "Host not
            // found".
            HeloResult::Fail | HeloResult::PermError => verdict.add(
                policy.helo_unknown,
                || {
                    Reply::new(
                        450,
                        "4.7.1",
                        &format!("<{shown}>: Helo command rejected: Host not found"),
                    )
                },
                match exists.result {
                    HeloResult::Fail => format!("HELO {shown} does not resolve"),
                    _ => format!("HELO {shown} is not a host name to look up"),
                },
            ),
            HeloResult::TempError => verdict.add(
                policy.helo_unknown.min(Action::Defer),
                || {
                    Reply::new(
                        450,
                        "4.7.1",
                        &format!("<{shown}>: Helo command rejected: Host not found"),
                    )
                },
                format!("HELO {shown}: DNS error"),
            ),
            _ => {}
        }
        if confirm.result == HeloResult::Fail {
            verdict.add(
                policy.helo_mismatch,
                || {
                    Reply::new(
                        550,
                        "5.7.1",
                        &format!("HELO {shown} does not match {}", self.client),
                    )
                },
                format!("HELO {shown} does not lead to {}", self.client),
            );
        }
        self.add_spf(&mut verdict, &spf, &policy.spf_helo);
        self.helo = Some(HeloChecks {
            name,
            exists,
            confirm,
        });
        self.spf_helo = Some(spf);
        verdict
    }

    /// The MAIL FROM stage: SPF for the sender. `arg` is the `MAIL FROM` argument as received:
    /// [`envelope::sender`] takes the address out of it (angle brackets, ESMTP parameters such as
    /// `SIZE=100` and a source route are dropped), and the SPF check and both header fields use
    /// that address. The null sender (`""` or `<>`) is checked as `postmaster@<helo>`. Call
    /// [`Session::helo`] first; without it the HELO is taken as empty.
    pub async fn mail_from(&mut self, arg: &str) -> Verdict {
        let checker = self.checker.clone();
        let helo = self.helo.as_ref().map_or("", |h| h.name.normalized());
        let helo = helo.to_string();
        // `check_mail_from` reads the raw argument with the same function, so the address checked
        // is `sender` whatever the argument holds.
        let sender = envelope::sender(arg);
        let spf = checker
            .inner
            .spf
            .check_mail_from(self.client, &helo, arg)
            .await;
        let mut verdict = Verdict::accept();
        self.add_spf(&mut verdict, &spf, &checker.policy().spf_mail_from);
        self.spf_mail_from = Some((sender.to_string(), spf));
        verdict
    }

    fn add_spf(&self, verdict: &mut Verdict, out: &SpfOutput, actions: &SpfActions) {
        let action = actions.action(out.result);
        let identity = out.identity.as_str();
        verdict.add(
            action,
            || spf_reply(out, action),
            format!(
                "SPF {identity} {}: {} ({})",
                out.domain(),
                out.result,
                out.cause
            ),
        );
    }

    /// The relay decision for a recipient domain (no DNS), with the policy's reply when denied.
    pub fn relay(&self, recipient_domain: &str, authenticated: bool) -> (RelayDecision, Verdict) {
        let decision = self
            .policy()
            .relay
            .decide(self.client, authenticated, recipient_domain);
        let mut verdict = Verdict::accept();
        if !decision.allowed {
            verdict.add(
                Action::Reject,
                || {
                    Reply::new(
                        554,
                        "5.7.1",
                        &format!("<{recipient_domain}>: Relay access denied"),
                    )
                },
                decision.to_string(),
            );
        }
        (decision, verdict)
    }

    /// The header fields to add: `Received-SPF` for the MAIL FROM identity (or the HELO identity
    /// when MAIL FROM was not checked), then `Authentication-Results` with every result.
    pub fn headers(&self) -> Vec<Header> {
        let policy = self.policy();
        let helo = self.helo.as_ref().map_or("", |h| h.name.normalized());
        let mut fields = Vec::new();
        let (spf, sender) = match (&self.spf_mail_from, &self.spf_helo) {
            (Some((sender, out)), _) => (Some(out), sender.as_str()),
            (None, Some(out)) => (Some(out), ""),
            _ => (None, ""),
        };
        if let Some(out) = spf {
            fields.push(
                ReceivedSpf::new(out, self.client, helo, sender)
                    .receiver(&policy.authserv_id)
                    .header(),
            );
        }
        let mut ar = AuthenticationResults::new(&policy.authserv_id);
        if let Some((sender, out)) = &self.spf_mail_from {
            let value = if sender.is_empty() {
                format!("postmaster@{helo}")
            } else {
                sender.to_string()
            };
            ar = ar.spf(out, &value);
        }
        if let Some(out) = &self.spf_helo
            && out.identity == Identity::Helo
        {
            ar = ar.spf(out, helo);
        }
        if let Some(iprev) = &self.iprev {
            let result = match iprev.result {
                IprevResult::Pass => "pass",
                IprevResult::Fail => "fail",
                IprevResult::TempError => "temperror",
                _ => "permerror",
            };
            let name = iprev.confirmed_name().or(iprev.reverse_name());
            ar = ar.push(MethodResult::new("iprev", result).property(
                "policy.iprev",
                &self.client.to_string(),
                name,
            ));
        }
        fields.push(ar.header());
        fields
    }
}

/// The reply for an SPF result that defers or rejects (RFC 7208 §8, RFC 7372 codes).
fn spf_reply(out: &SpfOutput, action: Action) -> Reply {
    let defer = action == Action::Defer;
    match (out.result, defer) {
        (SpfResult::Fail, false) => {
            let why = out.explanation.as_deref().unwrap_or("not authorized");
            Reply::new(550, "5.7.23", &format!("SPF validation failed: {why}"))
        }
        (SpfResult::Temperror, _) | (_, true) => Reply::new(
            451,
            "4.4.3",
            &format!("Temporary error checking SPF for {}", out.domain()),
        ),
        (SpfResult::Permerror, false) => Reply::new(
            550,
            "5.7.24",
            &format!("SPF record of {} is invalid", out.domain()),
        ),
        (result, false) => Reply::new(550, "5.7.23", &format!("SPF validation failed: {result}")),
    }
}

/// Runs three futures concurrently on the current task and returns their outputs.
async fn join3<A: Future, B: Future, C: Future>(
    a: A,
    b: B,
    c: C,
) -> (A::Output, B::Output, C::Output) {
    let (mut a, mut b, mut c) = (pin!(a), pin!(b), pin!(c));
    let (mut ra, mut rb, mut rc) = (None, None, None);
    poll_fn(|cx| {
        if ra.is_none()
            && let Poll::Ready(v) = a.as_mut().poll(cx)
        {
            ra = Some(v);
        }
        if rb.is_none()
            && let Poll::Ready(v) = b.as_mut().poll(cx)
        {
            rb = Some(v);
        }
        if rc.is_none()
            && let Poll::Ready(v) = c.as_mut().poll(cx)
        {
            rc = Some(v);
        }
        match (ra.is_some(), rb.is_some(), rc.is_some()) {
            (true, true, true) => Poll::Ready(()),
            _ => Poll::Pending,
        }
    })
    .await;
    match (ra, rb, rc) {
        (Some(a), Some(b), Some(c)) => (a, b, c),
        _ => unreachable!("poll_fn returns only when all three are ready"),
    }
}
