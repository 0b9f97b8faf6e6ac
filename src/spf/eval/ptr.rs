//! The client's validated domain names (RFC 7208 §5.5), for `ptr` and `%{p}`: its PTR names whose
//! addresses include it.

use super::{A, Aaaa, Evaluation, Kept, Query, Stop};
use crate::dns::{LookupResult, Resolver};
use crate::name::{is_within, normalize, same};
use crate::spf::trace::{Summary, TraceEvent};
use std::borrow::Cow;
use std::net::IpAddr;

impl<'a, 'c: 'a, R: Resolver + ?Sized> Evaluation<'a, 'c, R> {
    /// The client's validated domain names (RFC 7208 §5.5): PTR names (at most `max_ptr_names`) whose
    /// addresses include the client. DNS errors only skip names, as §5.5 says.
    pub(super) fn validated_names(&mut self) -> Result<&[String], Stop> {
        if self.validated.is_none() {
            self.ptr_lookups = Some(0);
            let validated = self.validate();
            self.ptr_lookups = None;
            self.validated = Some(validated?);
        }
        Ok(self.validated.as_deref().unwrap_or_default())
    }

    fn validate(&mut self) -> Result<Vec<String>, Stop> {
        let ptr = self.ptr()?;
        self.ptr_lookups = Some(1);
        let depth = self.depth();
        if let Some(trace) = self.trace.as_mut() {
            let event = TraceEvent::Query {
                rtype: "PTR",
                name: crate::dns::reverse_name(self.inputs.ip),
                answer: ptr.summary(),
            };
            trace.push(depth + 1, event);
        }
        let mut validated = Vec::new();
        let mut missed = false;
        let Ok(names) = ptr else {
            return Ok(validated);
        };
        for (i, name) in names.iter().take(self.config.max_ptr_names).enumerate() {
            let name = normalize(name);
            let found = match self.inputs.ip {
                IpAddr::V4(ip) => self
                    .lookup::<A>(&name)
                    .map(|a| a.is_ok_and(|v| v.contains(&ip))),
                IpAddr::V6(ip) => self
                    .lookup::<Aaaa>(&name)
                    .map(|a| a.is_ok_and(|v| v.contains(&ip))),
            };
            let found = match found {
                Ok(found) => found,
                // Prefetching: on to the next name, naming its lookup too.
                Err(Stop::Need) if self.prefetching() => {
                    missed = true;
                    false
                }
                Err(stop) => return Err(stop),
            };
            self.ptr_lookups = Some(i + 2);
            if found {
                validated.push(name.into_owned());
            }
        }
        // A list missing a name is not the client's: `ptr` and `%{p}` stop rather than guess.
        if missed {
            return Err(Stop::Need);
        }
        Ok(validated)
    }

    /// The client's PTR names, found as [`Self::answer`] finds names' answers.
    fn ptr(&mut self) -> Result<LookupResult<Cow<'a, [String]>>, Stop> {
        let ip = self.inputs.ip;
        if let Some(memo) = self.memo {
            if let Some(ptr) = &memo.ptr {
                return Ok(ptr.as_deref().map(Cow::Borrowed).map_err(Clone::clone));
            }
            let kept = self.kept.iter().find_map(|kept| match kept {
                Kept::Ptr(answer) => Some(answer),
                _ => None,
            });
            if let Some(answer) = kept {
                return Ok(answer.clone().map(Cow::Owned));
            }
        }
        let found = match self.answers.get().and_then(|view| view.ptr(ip)) {
            Some(answer) => Some(answer.map(Cow::Borrowed)),
            None => self.resolver.lookup_ptr_now(ip),
        };
        match found {
            Some(ptr) => {
                if self.memo.is_some() {
                    self.kept.push(Kept::Ptr(ptr.clone().map(Cow::into_owned)));
                }
                Ok(ptr)
            }
            None => Err(self.need(|| Query::Ptr)),
        }
    }

    /// `%{p}` for `domain`: a validated name equal to it, else one below it, else any (RFC 7208 §7.3);
    /// `None` (`unknown`) when there is none.
    pub(super) fn validated_name_for(&self, domain: &str) -> Option<&str> {
        let names = self.validated.as_deref()?;
        names
            .iter()
            .find(|n| same(n, domain))
            .or_else(|| names.iter().find(|n| is_within(n, domain)))
            .or_else(|| names.first())
            .map(String::as_str)
    }
}
