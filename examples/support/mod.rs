//! What the examples share: the embedded demo zone and the choice of DNS.

use sender_identity::dns::{HickoryResolver, Resolver, ZoneResolver};
use std::net::SocketAddr;
use std::sync::Arc;

/// The demo zone the examples answer from when no DNS is named.
pub const DEMO_ZONE: &str = include_str!("../demo.zone");

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
            Dns::Nameserver(addr) => Arc::new(HickoryResolver::with_nameservers(&[*addr])),
            Dns::System => {
                Arc::new(HickoryResolver::from_system_conf().map_err(|e| e.to_string())?)
            }
        })
    }
}
