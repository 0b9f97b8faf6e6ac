//! The per-connection API: verdicts and replies per stage and policy, headers, relay, concurrency.

mod common;
use async_trait::async_trait;
use common::resolvers::Hang;
use sender_identity::dns::{LookupResult, Mx, Resolver, TxtRecord, ZoneResolver};
use sender_identity::relay::{DomainList, NetList, RelayPolicy};
use sender_identity::session::{Action, Checker, Policy, SpfActions};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

const ZONE: &str = r#"
    example.com.        TXT  "v=spf1 mx -all"
    example.com.        MX   10 mail.example.com.
    mail.example.com.   A    192.0.2.10
    mail.example.com.   TXT  "v=spf1 a -all"
    192.0.2.10          PTR  mail.example.com.
    soft.example.       TXT  "v=spf1 ~all"
    broken.example.     TXT  "v=spf1 ip4:300.1.1.1"
    slow.example.       TIMEOUT
    other.example.net.  A    198.51.100.99
    203.0.113.66        PTR  mail.example.com.
    exp.example.        TXT  "v=spf1 -all exp=why.exp.example"
    why.exp.example.    TXT  "%{r} refuses %{i}"
"#;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn checker(policy: Policy) -> Checker<ZoneResolver> {
    Checker::new(ZONE.parse::<ZoneResolver>().unwrap(), policy)
}

#[test]
fn checker_is_send_sync_clone() {
    fn assert_traits<T: Send + Sync + Clone + 'static>() {}
    assert_traits::<Checker<ZoneResolver>>();
    assert_traits::<Checker<Arc<dyn Resolver>>>();
}

#[tokio::test]
async fn a_good_client_passes_every_stage() {
    let checker = checker(Policy::new("mx.example.net"));
    let (mut s, v) = checker.connect(ip("::ffff:192.0.2.10")).await;
    assert_eq!(v.action, Action::Accept);
    assert_eq!(s.client(), ip("192.0.2.10"), "IPv4-mapped folded");
    assert_eq!(
        s.iprev().unwrap().confirmed_name(),
        Some("mail.example.com")
    );
    let v = s.helo("mail.example.com").await;
    assert_eq!((v.action, v.reasons.len()), (Action::Accept, 0), "{v:?}");
    let v = s.mail_from("<alice@example.com>").await;
    assert_eq!(v.action, Action::Accept);
    let headers = s.headers();
    assert_eq!(headers.len(), 2);
    assert!(headers[0].value.starts_with("pass "));
    assert_eq!(
        headers[1].value,
        "mx.example.net; spf=pass smtp.mailfrom=alice@example.com; spf=pass smtp.helo=mail.example.com; iprev=pass policy.iprev=192.0.2.10 (mail.example.com)"
    );
}

#[tokio::test]
async fn spf_fail_rejects_with_550_5_7_23_by_default_and_tags_when_asked() {
    let checker = checker(Policy::new("mx.example.net"));
    let (mut s, _) = checker.connect(ip("203.0.113.5")).await;
    s.helo("mail.example.com").await;
    let v = s.mail_from("bob@example.com").await;
    assert_eq!(v.action, Action::Reject);
    let reply = v.reply.unwrap();
    assert_eq!((reply.code, reply.status.as_str()), (550, "5.7.23"));

    let mut policy = Policy::new("mx.example.net");
    policy.spf_mail_from = SpfActions::tag_only();
    policy.spf_helo = SpfActions::tag_only();
    let (mut s, _) = checker_with(policy).connect(ip("203.0.113.5")).await;
    s.helo("mail.example.com").await;
    let v = s.mail_from("bob@example.com").await;
    assert_eq!((v.action, v.reply), (Action::Tag, None));
    assert!(s.headers()[0].value.starts_with("fail "));
}

fn checker_with(policy: Policy) -> Checker<ZoneResolver> {
    checker(policy)
}

#[tokio::test]
async fn temperror_defers_with_451_4_4_3_and_softfail_tags() {
    let checker = checker(Policy::new("mx.example.net"));
    let (mut s, _) = checker.connect(ip("192.0.2.10")).await;
    s.helo("mail.example.com").await;
    let v = s.mail_from("x@slow.example").await;
    assert_eq!(v.action, Action::Defer);
    let reply = v.reply.unwrap();
    assert_eq!((reply.code, reply.status.as_str()), (451, "4.4.3"));
    let v = s.mail_from("x@soft.example").await;
    assert_eq!((v.action, v.reply), (Action::Tag, None));
    let v = s.mail_from("x@broken.example").await;
    assert_eq!(v.action, Action::Tag, "permerror tags by default");
    let mut policy = Policy::new("mx.example.net");
    policy.spf_mail_from.permerror = Action::Reject;
    let (mut s, _) = checker_with(policy).connect(ip("192.0.2.10")).await;
    let v = s.mail_from("x@broken.example").await;
    assert_eq!(v.reply.unwrap().status, "5.7.24");
}

#[tokio::test]
async fn helo_checks_follow_the_policy() {
    let checker = checker(Policy::new("mx.example.net"));
    let (mut s, _) = checker.connect(ip("192.0.2.10")).await;
    // Invalid syntax: rejected with the syntax rules' reply.
    let v = s.helo("bad_name!").await;
    assert_eq!(v.action, Action::Reject);
    assert_eq!(v.reply.unwrap().code, 501);
    // A name that does not resolve, and one that resolves elsewhere: tagged, not refused.
    let v = s.helo("nowhere.example.com").await;
    assert_eq!(v.action, Action::Tag, "{v:?}");
    let v = s.helo("other.example.net").await;
    assert_eq!(v.action, Action::Tag);
    assert!(
        v.reasons
            .iter()
            .any(|r| r.contains("does not lead to 192.0.2.10")),
        "{v:?}"
    );
    // HELO SPF fail is a reject by default (RFC 7208 §2.3: a HELO fail is conclusive).
    let (mut s, _) = checker.connect(ip("203.0.113.5")).await;
    let v = s.helo("mail.example.com").await;
    assert_eq!(v.action, Action::Reject);
    assert_eq!(v.reply.unwrap().status, "5.7.23");
    // An address literal for the right client is fine.
    let (mut s, _) = checker.connect(ip("192.0.2.10")).await;
    assert_eq!(s.helo("[192.0.2.10]").await.action, Action::Accept);
}

#[tokio::test]
async fn iprev_outcomes_and_actions() {
    let mut policy = Policy::new("mx.example.net");
    policy.iprev_fail = Action::Reject;
    let checker = checker_with(policy);
    // A forged PTR: mail.example.com does not resolve to 203.0.113.66.
    let (s, v) = checker.connect(ip("203.0.113.66")).await;
    assert_eq!(v.action, Action::Reject);
    assert_eq!(v.reply.unwrap().status, "5.7.25");
    assert!(
        s.headers()[0]
            .value
            .contains("iprev=fail policy.iprev=203.0.113.66 (mail.example.com)")
    );
    // No PTR at all: permerror, tagged by default.
    let (_, v) = checker.connect(ip("198.51.100.1")).await;
    assert_eq!(v.action, Action::Tag);
}

#[tokio::test]
async fn relay_decisions() {
    let mut policy = Policy::new("mx.example.net");
    policy.relay = RelayPolicy::new(
        NetList::parse("192.0.2.0/24").unwrap(),
        DomainList::parse("example.com").unwrap(),
    );
    let checker = checker_with(policy);
    let (s, _) = checker.connect(ip("192.0.2.10")).await;
    assert!(s.relay("anywhere.example", false).0.allowed);
    let (s, _) = checker.connect(ip("203.0.113.5")).await;
    assert!(s.relay("example.com", false).0.allowed);
    assert!(s.relay("anywhere.example", true).0.allowed);
    let (decision, v) = s.relay("anywhere.example", false);
    assert!(!decision.allowed);
    let reply = v.reply.unwrap();
    assert_eq!((reply.code, reply.status.as_str()), (554, "5.7.1"));
}

/// A resolver that answers NXDOMAIN after a short pause and records how many lookups were in
/// flight at once.
#[derive(Default)]
struct Slow {
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

impl Slow {
    async fn pause<T>(&self) -> LookupResult<T> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(20)).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        Err(sender_identity::dns::LookupError::NxDomain)
    }
}

#[async_trait]
impl Resolver for Slow {
    async fn lookup_txt(&self, _: &str) -> LookupResult<Vec<TxtRecord>> {
        self.pause().await
    }
    async fn lookup_a(&self, _: &str) -> LookupResult<Vec<Ipv4Addr>> {
        self.pause().await
    }
    async fn lookup_aaaa(&self, _: &str) -> LookupResult<Vec<Ipv6Addr>> {
        self.pause().await
    }
    async fn lookup_mx(&self, _: &str) -> LookupResult<Vec<Mx>> {
        self.pause().await
    }
    async fn lookup_ptr(&self, _: IpAddr) -> LookupResult<Vec<String>> {
        self.pause().await
    }
}

#[tokio::test]
async fn helo_stage_lookups_run_concurrently() {
    let slow = Arc::new(Slow::default());
    let checker = Checker::new(slow.clone(), Policy::new("mx.example.net"));
    let (mut s, _) = checker.connect(ip("192.0.2.10")).await;
    slow.max_in_flight.store(0, Ordering::SeqCst);
    s.helo("mail.example.com").await;
    assert!(
        slow.max_in_flight.load(Ordering::SeqCst) >= 3,
        "existence, confirmation and SPF overlap"
    );
}

#[tokio::test]
async fn every_stage_ends_at_its_time_limit_with_temperror() {
    use sender_identity::helo::HeloResult;
    use sender_identity::iprev::IprevResult;
    use sender_identity::spf::SpfResult;
    let mut policy = Policy::new("mx.example.net");
    policy.timeout = Duration::from_millis(50);
    policy.spf.timeout = Some(Duration::from_millis(50));
    let checker = Checker::new(Hang, policy);
    let (mut s, _) = checker.connect(ip("192.0.2.10")).await;
    assert_eq!(s.iprev().unwrap().result, IprevResult::TempError);
    let v = s.helo("mail.example.com").await;
    let checks = s.helo_checks().unwrap();
    assert_eq!(checks.exists.result, HeloResult::TempError);
    assert_eq!(checks.confirm.result, HeloResult::TempError);
    assert_eq!(s.spf_helo().unwrap().result, SpfResult::Temperror);
    assert_eq!(v.action, Action::Defer, "SPF temperror defers by default");
    let v = s.mail_from("a@example.com").await;
    assert_eq!(v.reply.unwrap().code, 451);
}

/// Item 1 of issue 15: the raw `MAIL FROM` argument (brackets, ESMTP parameters) gives one sender,
/// the same in the SPF check, `Received-SPF` and `Authentication-Results`.
#[tokio::test]
async fn mail_from_argument_is_read_once_for_spf_and_both_headers() {
    let checker = checker(Policy::new("mx.example.net"));
    for arg in [
        "<alice@example.com>",
        "<alice@example.com> SIZE=100 BODY=8BITMIME",
        "<@relay.example:alice@example.com>",
    ] {
        let (mut s, _) = checker.connect(ip("192.0.2.10")).await;
        s.helo("mail.example.com").await;
        s.mail_from(arg).await;
        let out = s.spf_mail_from().unwrap();
        assert_eq!(out.result, sender_identity::spf::SpfResult::Pass, "{arg}");
        let headers = s.headers();
        assert_eq!(
            headers[0].value,
            "pass (mx.example.net: domain of alice@example.com designates 192.0.2.10 as \
             permitted sender) client-ip=192.0.2.10; envelope-from=\"alice@example.com\"; \
             helo=mail.example.com; receiver=mx.example.net; identity=mailfrom; mechanism=mx",
            "{arg}"
        );
        assert!(
            headers[1]
                .value
                .contains("spf=pass smtp.mailfrom=alice@example.com;"),
            "{arg}: {}",
            headers[1].value
        );
    }
    // The null sender with a parameter: `postmaster@<helo>` everywhere.
    let (mut s, _) = checker.connect(ip("192.0.2.10")).await;
    s.helo("mail.example.com").await;
    s.mail_from("<> SIZE=100").await;
    let headers = s.headers();
    assert!(
        headers[0]
            .value
            .contains("domain of postmaster@mail.example.com designates"),
        "{}",
        headers[0].value
    );
    assert!(
        headers[0]
            .value
            .contains("envelope-from=\"postmaster@mail.example.com\";")
    );
    assert!(
        headers[1]
            .value
            .contains("spf=pass smtp.mailfrom=postmaster@mail.example.com")
    );
}

/// Item 6 of issue 15: `authserv_id` is the one receiver name, even when changed after
/// `Policy::new`: SMTP replies quoting `%{r}` follow it.
#[tokio::test]
async fn receiver_name_follows_authserv_id_set_after_policy_new() {
    let mut policy = Policy::new("old.example.net");
    policy.authserv_id = "new.example.net".to_string();
    let checker = checker_with(policy);
    assert_eq!(checker.policy().spf.receiver, "new.example.net");
    let (mut s, _) = checker.connect(ip("203.0.113.5")).await;
    s.helo("mail.example.com").await;
    let v = s.mail_from("bob@exp.example").await;
    assert_eq!(v.action, Action::Reject);
    assert_eq!(
        v.reply.unwrap().to_string(),
        "550 5.7.23 SPF validation failed: new.example.net refuses 203.0.113.5"
    );
    assert!(s.headers()[0].value.contains("receiver=new.example.net;"));
}

/// Item 5 of issue 15: with Postfix's rules, a trailing-dot HELO passes the syntax check and
/// `reject_unknown_helo_hostname` answers 450 "Host not found" without looking it up.
#[tokio::test]
async fn postfix_helo_rules_refuse_a_trailing_dot_as_host_not_found() {
    use sender_identity::helo::{ExistsOptions, HeloPolicy, HeloResult};
    let mut policy = Policy::new("mx.example.net");
    policy.helo_syntax = HeloPolicy::PostfixInvalid;
    policy.helo_exists = ExistsOptions::postfix();
    policy.helo_unknown = Action::Reject;
    let (mut s, _) = checker_with(policy).connect(ip("192.0.2.10")).await;
    let v = s.helo("mail.example.com.").await;
    let checks = s.helo_checks().unwrap();
    assert_eq!(checks.exists.result, HeloResult::PermError);
    assert!(checks.exists.lookups.is_empty());
    assert_eq!(v.action, Action::Reject);
    assert_eq!(
        v.reply.unwrap().to_string(),
        "450 4.7.1 <mail.example.com.>: Helo command rejected: Host not found"
    );
    // The default looks the name up without the dot.
    let (mut s, _) = checker(Policy::new("mx.example.net"))
        .connect(ip("192.0.2.10"))
        .await;
    s.helo("mail.example.com.").await;
    assert_eq!(s.helo_checks().unwrap().exists.result, HeloResult::Pass);
}

/// Item 5 of issue 15: `localhost.localdomain` is classed with `localhost`, and the default
/// (strict) rules refuse it.
#[tokio::test]
async fn localhost_localdomain_helo_is_flagged_like_localhost() {
    use sender_identity::helo::{HeloResult, HeloSyntax};
    let (mut s, _) = checker(Policy::new("mx.example.net"))
        .connect(ip("192.0.2.10"))
        .await;
    let v = s.helo("LocalHost.LocalDomain").await;
    let checks = s.helo_checks().unwrap();
    assert_eq!(checks.name.syntax(), HeloSyntax::Localhost);
    assert_eq!(checks.exists.result, HeloResult::None, "not looked up");
    assert_eq!(v.action, Action::Reject);
    assert_eq!(v.reply.unwrap().to_string(), "501 5.5.2 Invalid name");
}
