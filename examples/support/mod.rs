//! What the examples share: the embedded demo zone, the choice of DNS, and printing that survives
//! a closed pipe.

#[cfg(feature = "hickory")]
use sender_identity::dns::{HickoryResolver, HickoryResolverBuilder};
use sender_identity::dns::{Resolver, ZoneResolver};
use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// The demo zone the examples answer from when no DNS is named.
pub const DEMO_ZONE: &str = include_str!("../demo.zone");

/// How long one query to a real name server may take, and how often it is tried: an interactive
/// tool gives up on an unreachable server after about 4 s per lookup rather than resolv.conf's 10.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(2);
/// Tries per query (see [`QUERY_TIMEOUT`]).
pub const QUERY_ATTEMPTS: usize = 2;

/// Where an example's DNS answers come from.
pub enum Dns {
    /// The embedded demo zone (no network).
    Demo,
    /// A zone file in the crate's zone text format.
    Zone(String),
    /// A name server at IP:PORT.
    Nameserver(SocketAddr),
    /// The system's resolver configuration (real DNS).
    System,
}

impl Dns {
    /// Reads `--zone FILE`, `--nameserver IP:PORT` or `--system`; `None` for other flags.
    pub fn from_flag(
        flag: &str,
        mut value: impl FnMut() -> Result<String, String>,
    ) -> Option<Result<Dns, String>> {
        Some(match flag {
            "--zone" => value().map(Dns::Zone),
            "--nameserver" => value().and_then(|v| {
                v.parse()
                    .map(Dns::Nameserver)
                    .map_err(|e| format!("--nameserver {v:?}: {e} (want IP:PORT)"))
            }),
            "--system" => Ok(Dns::System),
            _ => return None,
        })
    }

    /// Whether answers come over the network (and so may be slow or never come).
    pub fn is_network(&self) -> bool {
        matches!(self, Dns::Nameserver(_) | Dns::System)
    }

    /// What answers, for the first line of output.
    pub fn describe(&self) -> String {
        match self {
            Dns::Demo => "the embedded demo zone (no network)".into(),
            Dns::Zone(path) => format!("the zone file {path}"),
            Dns::Nameserver(addr) => format!(
                "the name server at {addr} ({} s per try, {QUERY_ATTEMPTS} tries)",
                QUERY_TIMEOUT.as_secs()
            ),
            Dns::System => format!(
                "the system's name servers ({} s per try, {QUERY_ATTEMPTS} tries)",
                QUERY_TIMEOUT.as_secs()
            ),
        }
    }

    /// The resolver.
    pub fn resolver(&self) -> Result<Arc<dyn Resolver>, String> {
        Ok(match self {
            Dns::Demo => Arc::new(
                DEMO_ZONE
                    .parse::<ZoneResolver>()
                    .map_err(|e| e.to_string())?,
            ),
            Dns::Zone(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
                Arc::new(
                    text.parse::<ZoneResolver>()
                        .map_err(|e| format!("{path}: {e}"))?,
                )
            }
            #[cfg(feature = "hickory")]
            Dns::Nameserver(addr) => Arc::new(
                network(HickoryResolver::builder().name_server(*addr))
                    .build()
                    .map_err(|e| e.to_string())?,
            ),
            #[cfg(feature = "hickory")]
            Dns::System => Arc::new(
                network(
                    HickoryResolverBuilder::from_system_conf()
                        .map_err(|e| format!("the system's DNS configuration: {e}"))?,
                )
                .build()
                .map_err(|e| e.to_string())?,
            ),
            #[cfg(not(feature = "hickory"))]
            Dns::Nameserver(_) | Dns::System => {
                return Err(
                    "--nameserver and --system need the crate's `hickory` feature \
                     (on by default: drop --no-default-features)"
                        .into(),
                );
            }
        })
    }
}

/// The settings an interactive tool uses for real name servers.
#[cfg(feature = "hickory")]
fn network(builder: HickoryResolverBuilder) -> HickoryResolverBuilder {
    builder.timeout(QUERY_TIMEOUT).attempts(QUERY_ATTEMPTS)
}

/// Writes one line to standard output. When the reader has gone (`check_helo | head -1`), the
/// example ends quietly, as command-line tools do, instead of panicking as `println!` does on a
/// broken pipe.
pub fn say_line(args: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.write_all(b"\n")) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("cannot write the output: {e}");
        std::process::exit(1);
    }
}

/// `println!` for the examples: see [`say_line`].
macro_rules! say {
    () => { $crate::support::say_line(format_args!("")) };
    ($($arg:tt)*) => { $crate::support::say_line(format_args!($($arg)*)) };
}
pub(crate) use say;
