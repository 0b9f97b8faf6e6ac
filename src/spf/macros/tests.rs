#[test]
fn delimiter_masks_match_every_set() {
    for bits in 0u8..128 {
        let chars: String = Delimiters::ALL
            .iter()
            .enumerate()
            .filter(|(i, _)| bits & (1 << i) != 0)
            .map(|(_, &c)| char::from(c))
            .collect();
        let d: Delimiters = chars.parse().unwrap();
        let set = DelimiterSet::new(d);
        for b in 0..=u8::MAX {
            assert_eq!(set.has(b), d.contains(char::from(b)), "{chars:?} {b}");
        }
    }
}

use super::*;
use crate::spf::parse_explanation;
use proptest::prelude::*;

fn ctx(ip: &str) -> MacroContext<'static> {
    MacroContext {
        sender: "strong-bad@email.example.com",
        local_part: "strong-bad",
        sender_domain: "email.example.com",
        domain: "email.example.com",
        ip: ip.parse().unwrap(),
        helo: "mx.example.org",
        validated_name: Some("mx.example.org"),
        receiver: "rcv.example.net",
        timestamp: 1234,
    }
}

fn expand(s: &str, ip: &str) -> String {
    let mut out = String::new();
    parse_explanation(s).unwrap().expand(&ctx(ip), &mut out);
    out
}

/// The examples of RFC 7208 §7.4.
#[test]
fn rfc_examples() {
    let v4 = "192.0.2.3";
    assert_eq!(expand("%{s}", v4), "strong-bad@email.example.com");
    assert_eq!(expand("%{o}", v4), "email.example.com");
    assert_eq!(expand("%{d}", v4), "email.example.com");
    assert_eq!(expand("%{d4}", v4), "email.example.com");
    assert_eq!(expand("%{d3}", v4), "email.example.com");
    assert_eq!(expand("%{d2}", v4), "example.com");
    assert_eq!(expand("%{d1}", v4), "com");
    assert_eq!(expand("%{dr}", v4), "com.example.email");
    assert_eq!(expand("%{d2r}", v4), "example.email");
    assert_eq!(expand("%{l}", v4), "strong-bad");
    assert_eq!(expand("%{l-}", v4), "strong.bad");
    assert_eq!(expand("%{lr}", v4), "strong-bad");
    assert_eq!(expand("%{lr-}", v4), "bad.strong");
    assert_eq!(expand("%{l1r-}", v4), "strong");
    assert_eq!(
        expand("%{ir}.%{v}._spf.%{d2}", v4),
        "3.2.0.192.in-addr._spf.example.com"
    );
    assert_eq!(
        expand("%{lr-}.lp._spf.%{d2}", v4),
        "bad.strong.lp._spf.example.com"
    );
    assert_eq!(
        expand("%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", v4),
        "bad.strong.lp.3.2.0.192.in-addr._spf.example.com"
    );
    assert_eq!(
        expand("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", v4),
        "3.2.0.192.in-addr.strong.lp._spf.example.com"
    );
    assert_eq!(
        expand("%{d2}.trusted-domains.example.net", v4),
        "example.com.trusted-domains.example.net"
    );
    assert_eq!(
        expand("%{ir}.%{v}._spf.%{d2}", "2001:db8::cb01"),
        "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com"
    );
}

#[test]
fn other_letters() {
    let v4 = "192.0.2.3";
    assert_eq!(expand("%{h}", v4), "mx.example.org");
    assert_eq!(expand("%{p}", v4), "mx.example.org");
    assert_eq!(expand("%{c}", v4), "192.0.2.3");
    assert_eq!(expand("%{c}", "2001:db8::cb01"), "2001:db8::cb01");
    assert_eq!(expand("%{v}", "::1"), "ip6");
    assert_eq!(expand("%{r}", v4), "rcv.example.net");
    assert_eq!(expand("%{t}", v4), "1234");
    assert_eq!(expand("%%%_%-", v4), "% %20");
    assert_eq!(expand("%{d999}", v4), "email.example.com");
    assert_eq!(expand("%{l+-=}", v4), "strong.bad");
}

#[test]
fn url_escaping() {
    assert_eq!(
        expand("%{S}", "192.0.2.3"),
        "strong-bad%40email.example.com"
    );
    let mut out = String::new();
    url_escape("a b/~é", &mut out);
    assert_eq!(out, "a%20b%2F~%C3%A9");
}

#[test]
fn truncation() {
    let label = "a".repeat(63);
    let mut name = format!("{label}.{label}.{label}.{label}.example.com");
    assert!(name.len() > 253);
    truncate_name(&mut name);
    assert!(name.len() <= 253);
    assert!(name.ends_with(".example.com"));
    assert!(name.starts_with('a'));
    let mut dotted = "example.com.".to_string();
    truncate_name(&mut dotted);
    assert_eq!(dotted, "example.com");
    let mut one = "x".repeat(300);
    truncate_name(&mut one);
    assert_eq!(one, "");
}
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z0-9.+,/_=~ é😀%-]{0,24}",
        1 => "[a-z.-]{0,300}",
    ]
}

fn a_macro() -> impl Strategy<Value = Macro> {
    (
        0usize..11,
        any::<bool>(),
        prop_oneof![
            Just(None),
            (0u32..12).prop_map(Some),
            any::<u32>().prop_map(Some)
        ],
        any::<bool>(),
        "[-.+,/_=]{0,4}",
    )
        .prop_map(|(letter, url_escape, keep, reverse, delims)| Macro {
            letter: MacroLetter::from_char("slodipvhcrt".as_bytes()[letter] as char).unwrap(),
            url_escape,
            keep,
            reverse,
            delimiters: delims.parse().unwrap(),
        })
}

fn macro_string() -> impl Strategy<Value = MacroString> {
    prop::collection::vec(
        prop_oneof![text().prop_map(Err), a_macro().prop_map(Ok)],
        0..8,
    )
    .prop_map(|parts| {
        let mut ms = MacroString::default();
        for part in parts {
            match part {
                Ok(m) => ms.push_macro(m),
                Err(s) => ms.push_literal(&s),
            }
        }
        ms
    })
}

#[derive(Debug, Clone)]
struct Values {
    strings: [String; 6],
    validated: Option<String>,
    ip: IpAddr,
    timestamp: u64,
}

fn values() -> impl Strategy<Value = Values> {
    (
        [text(), text(), text(), text(), text(), text()],
        prop::option::of(text()),
        prop_oneof![
            any::<[u8; 4]>().prop_map(IpAddr::from),
            any::<[u8; 16]>().prop_map(IpAddr::from),
        ],
        any::<u64>(),
    )
        .prop_map(|(strings, validated, ip, timestamp)| Values {
            strings,
            validated,
            ip,
            timestamp,
        })
}

impl Values {
    fn context(&self) -> MacroContext<'_> {
        let [sender, local_part, sender_domain, domain, helo, receiver] = &self.strings;
        MacroContext {
            sender,
            local_part,
            sender_domain,
            domain,
            ip: self.ip,
            helo,
            validated_name: self.validated.as_deref(),
            receiver,
            timestamp: self.timestamp,
        }
    }
}

/// The longest prefix of `full` of at most [`MAX_EXPLANATION_LEN`] bytes, at a character
/// boundary: what `expand` appends.
fn capped(full: &str) -> &str {
    crate::spf::cut_to(full, MAX_EXPLANATION_LEN)
}

/// Checks `expand` and `expand_name` against the reference (which builds the whole expansion).
fn check_against_reference(ms: &MacroString, ctx: &MacroContext<'_>) -> Result<(), TestCaseError> {
    let (mut fast, mut full) = (String::from("kept"), String::new());
    ms.expand(ctx, &mut fast);
    reference::expand(ms, ctx, &mut full);
    prop_assert_eq!(&fast[4..], capped(&full), "{}", ms);
    prop_assert_eq!(&fast[..4], "kept");
    let (mut fast, mut slow) = (String::from("junk"), String::new());
    ms.expand_name(ctx, &mut fast);
    reference::expand_name(ms, ctx, &mut slow);
    prop_assert_eq!(&fast, &slow, "{}", ms);
    Ok(())
}

proptest! {
    #[test]
    fn expansion_matches_reference(ms in macro_string(), values in values()) {
        check_against_reference(&ms, &values.context())?;
    }

    /// Long values and many parts: the capped explanation and the name gathered backwards.
    #[test]
    fn long_expansions_match_reference(
        parts in prop::collection::vec(
            prop_oneof![text().prop_map(Err), a_macro().prop_map(Ok)],
            0..60,
        ),
        long in prop::collection::vec("[a-z.é-]{0,8}", 0..400),
        values in values(),
    ) {
        let mut ms = MacroString::default();
        for part in parts {
            match part {
                Ok(m) => ms.push_macro(m),
                Err(s) => ms.push_literal(&s),
            }
        }
        let long = long.concat();
        let mut values = values;
        values.strings[0] = long.clone();
        values.strings[1] = long.replace('.', "-");
        values.strings[4] = long;
        check_against_reference(&ms, &values.context())?;
    }
}

#[test]
fn parts_backwards_are_the_parts_reversed() {
    for text in [
        "",
        "a",
        "%{d}",
        "a%{d}b%{l}%{s}c",
        "%{d}%{i}x.y%{h}",
        "lit.only",
    ] {
        let ms = parse_explanation(text).unwrap();
        let forward: Vec<String> = ms.parts().map(|p| format!("{p:?}")).collect();
        let mut backward: Vec<String> = ms.parts_rev().map(|p| format!("{p:?}")).collect();
        backward.reverse();
        assert_eq!(forward, backward, "{text}");
    }
}

#[test]
fn the_window_keeps_the_last_bytes() {
    let mut window = Window::new();
    let mut all = Vec::new();
    for i in 0..2000u32 {
        let piece = "x".repeat((i % 300) as usize) + &(i % 10).to_string();
        window.push_str(&piece);
        all.extend_from_slice(piece.as_bytes());
        let want = &all[all.len().saturating_sub(TAIL_LEN)..];
        assert_eq!(window.bytes(), want, "{i}");
    }
}

#[test]
fn keep_zero_keeps_nothing() {
    let values = Values {
        strings: [
            "a.b".to_string(),
            "c-d".to_string(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ],
        validated: None,
        ip: "192.0.2.1".parse().unwrap(),
        timestamp: 0,
    };
    for letter in "slodipvhcrt".chars() {
        let mut m = Macro::new(MacroLetter::from_char(letter).unwrap());
        m.keep = Some(0);
        let mut ms = MacroString::literal("x.");
        ms.push_macro(m);
        let mut out = String::new();
        ms.expand(&values.context(), &mut out);
        assert_eq!(out, "x.", "{letter}");
    }
}
/// Expansions around the size of the stack buffer, with addresses written as blocks near its
/// end: the same as the reference (up to the explanation cap), whether built on the stack or
/// not.
#[test]
fn expansions_around_the_stack_size() {
    for ip in ["192.0.2.3", "2001:db8::cb01"] {
        let ctx = ctx(ip);
        for pad in STACK_LEN - 80..STACK_LEN + 8 {
            let literal: String = "abcdefgh.".chars().cycle().take(pad).collect();
            for tail in ["%{i}", "%{ir}.%{d}", "%{I}", "%{l1r-}", "%{S}"] {
                let ms = parse_explanation(&format!("{literal}{tail}")).unwrap();
                let (mut fast, mut slow) = (String::new(), String::new());
                ms.expand(&ctx, &mut fast);
                reference::expand(&ms, &ctx, &mut slow);
                assert_eq!(fast, capped(&slow), "{ms}");
                ms.expand_name(&ctx, &mut fast);
                reference::expand_name(&ms, &ctx, &mut slow);
                assert_eq!(fast, slow, "{ms}");
            }
        }
    }
}
