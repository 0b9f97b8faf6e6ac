//! A real DNS server for tests: authoritative, in-process, on 127.0.0.1, serving the records of zone
//! text in the crate's one zone format ([`sender_identity::dns::parse_zone`]).
//!
//! - UDP and TCP on the same random port; answers too large for the client's UDP buffer are
//!   truncated (TC), so the client retries over TCP.
//! - `TIMEOUT` lines: the server never answers those queries (they are dropped, but counted).
//! - `SERVFAIL` lines: the server answers SERVFAIL; `REFUSED` lines: REFUSED.
//! - CNAMEs are chased inside the zone, as an authoritative server does: the answer holds the chain
//!   and the records of its end (NXDOMAIN if the end does not exist). A fault met along the chain
//!   applies to the whole answer; a chain longer than 8 (or a loop) answers SERVFAIL.
//! - Every query is counted (per name and type, per transport, and in total) and logged, so tests
//!   can assert how many queries an evaluation made; [`TestDnsServer::wait_for_queries`] waits for a
//!   count without sleeping. The log keeps each query's message ID, so
//!   [`TestDnsServer::lookups`] can count lookups rather than datagrams: a re-send over UDP (hickory
//!   re-sends after ~333 ms) and the TCP query after a truncated answer count once.
//! - NXDOMAIN and NODATA answers carry an SOA record in the authority section (negative TTL
//!   [`TTL`]), as a real authoritative server's do, so that resolvers can cache them (RFC 2308).
//! - [`TestDnsServer::set_delay`] delays every answer, to stand for the round trip to a distant
//!   server.
//! - Character-strings longer than 255 bytes (which the zone text allows) are served split into
//!   255-byte strings, as a provisioning tool would.
//!
//! The server runs on the tokio runtime of the test that starts it and stops when the
//! [`TestDnsServer`] is dropped. [`BlackHole`] is a name server that never answers.
//!
//! ```ignore
//! let server = TestDnsServer::start("example.com. A 192.0.2.1").await;
//! let resolver = server.resolver();
//! assert_eq!(resolver.lookup_a("example.com").await.unwrap().len(), 1);
//! assert_eq!(server.query_count("example.com", QueryType::A), 1);
//! ```

use async_trait::async_trait;
use hickory_server::Server;
use hickory_server::net::runtime::Time;
use hickory_server::net::xfer::Protocol;
use hickory_server::proto::op::{Edns, Header, HeaderCounts, Metadata, OpCode, ResponseCode};
use hickory_server::proto::rr::rdata::{A, AAAA, CNAME, MX, PTR, SOA, TXT};
use hickory_server::proto::rr::{Name, RData, Record};
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::zone_handler::MessageResponseBuilder;
use sender_identity::dns::{Fault, HickoryResolver, RecordType, ZoneRecord, parse_zone};
use sender_identity::name::normalize;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The DNS record type of a query (hickory's), for counting.
pub use hickory_server::proto::rr::RecordType as QueryType;

/// The TTL of every record served.
const TTL: u32 = 300;
/// The longest CNAME chain the server follows before answering SERVFAIL (as `ZoneResolver`).
const MAX_CNAME_CHAIN: usize = 8;
/// How long the TCP listener keeps an idle connection.
const TCP_IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// How a query reached the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// UDP.
    Udp,
    /// TCP.
    Tcp,
}

/// One query the server received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryLog {
    /// The message ID.
    pub id: u16,
    /// The name asked, lower-case, without the trailing dot.
    pub name: String,
    /// The type asked.
    pub qtype: QueryType,
    /// How it came.
    pub transport: Transport,
}

/// What the server holds for one owner name.
#[derive(Debug, Default)]
struct Node {
    /// Every record, CNAME included.
    records: Vec<Record>,
    /// The CNAME target, if the name is an alias.
    cname: Option<String>,
    /// Faults for one type.
    faults: Vec<(QueryType, Fault)>,
    /// A fault for every type the name has no records of.
    fault_other: Option<Fault>,
}

impl Node {
    fn of_type(&self, qtype: QueryType) -> impl Iterator<Item = &Record> {
        self.records
            .iter()
            .filter(move |r| r.record_type() == qtype)
    }
}

/// What the server does with one query.
enum Outcome {
    /// Answer with this response code and these answers.
    Answer(ResponseCode, Vec<Record>),
    /// Never answer.
    Drop,
}

#[derive(Debug, Default)]
struct Counts {
    log: Vec<QueryLog>,
    per_query: HashMap<(String, QueryType), usize>,
    tcp: usize,
}

#[derive(Debug)]
struct State {
    zone: HashMap<String, Node>,
    counts: Mutex<Counts>,
    total: watch::Sender<usize>,
    /// The SOA served with negative answers.
    soa: Record,
    /// How long every answer waits, in microseconds.
    delay_us: AtomicU64,
}

impl State {
    fn record_query(&self, entry: QueryLog) {
        {
            let mut counts = self.counts.lock().unwrap();
            *counts
                .per_query
                .entry((entry.name.clone(), entry.qtype))
                .or_default() += 1;
            if entry.transport == Transport::Tcp {
                counts.tcp += 1;
            }
            counts.log.push(entry);
        }
        self.total.send_modify(|n| *n += 1);
    }

    fn resolve(&self, qname: &str, qtype: QueryType) -> Outcome {
        let mut answers = Vec::new();
        let mut current = qname.to_string();
        for _ in 0..=MAX_CNAME_CHAIN {
            let Some(node) = self.zone.get(&current) else {
                return Outcome::Answer(ResponseCode::NXDomain, answers);
            };
            if let Some((_, fault)) = node.faults.iter().find(|(t, _)| *t == qtype) {
                return fault_outcome(*fault);
            }
            if let (Some(target), false) = (&node.cname, qtype == QueryType::CNAME) {
                answers.extend(node.of_type(QueryType::CNAME).cloned());
                current = target.clone();
                continue;
            }
            let before = answers.len();
            answers.extend(node.of_type(qtype).cloned());
            if answers.len() == before
                && let Some(fault) = node.fault_other
            {
                return fault_outcome(fault);
            }
            return Outcome::Answer(ResponseCode::NoError, answers);
        }
        Outcome::Answer(ResponseCode::ServFail, Vec::new())
    }
}

fn fault_outcome(fault: Fault) -> Outcome {
    match fault {
        Fault::Timeout => Outcome::Drop,
        Fault::Refused => Outcome::Answer(ResponseCode::Refused, Vec::new()),
        // Fault::ServerFailure, and anything added later.
        _ => Outcome::Answer(ResponseCode::ServFail, Vec::new()),
    }
}

/// A hickory name from a normalised name of the zone (labels taken as raw bytes).
fn to_name(name: &str) -> Name {
    if name.is_empty() {
        return Name::root();
    }
    Name::from_labels(name.split('.').map(str::as_bytes))
        .unwrap_or_else(|e| panic!("zone name {name:?} cannot be served: {e}"))
}

fn query_type(rtype: RecordType) -> QueryType {
    match rtype {
        RecordType::Txt => QueryType::TXT,
        RecordType::A => QueryType::A,
        RecordType::Aaaa => QueryType::AAAA,
        RecordType::Mx => QueryType::MX,
        RecordType::Ptr => QueryType::PTR,
        RecordType::Cname => QueryType::CNAME,
        other => panic!("record type {other} is not served by the test DNS server"),
    }
}

fn build_zone(records: Vec<(String, ZoneRecord)>) -> HashMap<String, Node> {
    let mut zone: HashMap<String, Node> = HashMap::new();
    for (owner, record) in records {
        let owner_name = to_name(&owner);
        let node = zone.entry(owner).or_default();
        let rdata = match record {
            ZoneRecord::Txt(txt) => {
                let strings: Vec<&[u8]> = txt
                    .strings()
                    .iter()
                    .flat_map(|s| {
                        if s.is_empty() {
                            vec![&s[..]]
                        } else {
                            s.chunks(255).collect()
                        }
                    })
                    .collect();
                RData::TXT(TXT::from_bytes(strings))
            }
            ZoneRecord::A(v4) => RData::A(A(v4)),
            ZoneRecord::Aaaa(v6) => RData::AAAA(AAAA(v6)),
            ZoneRecord::Mx(mx) => RData::MX(MX::new(mx.preference, to_name(&mx.exchange))),
            ZoneRecord::Ptr(target) => RData::PTR(PTR(to_name(&target))),
            ZoneRecord::Cname(target) => {
                node.records.retain(|r| r.record_type() != QueryType::CNAME);
                node.cname = Some(target.clone());
                RData::CNAME(CNAME(to_name(&target)))
            }
            ZoneRecord::Fault(Some(t), fault) => {
                node.faults.push((query_type(t), fault));
                continue;
            }
            ZoneRecord::Fault(None, fault) => {
                node.fault_other = Some(fault);
                continue;
            }
            other => panic!("zone record {other:?} is not served by the test DNS server"),
        };
        node.records
            .push(Record::from_rdata(owner_name, TTL, rdata));
    }
    zone
}

struct Handler {
    state: Arc<State>,
}

#[async_trait]
impl RequestHandler for Handler {
    async fn handle_request<R: ResponseHandler, T: Time>(
        &self,
        request: &Request,
        mut response_handle: R,
    ) -> ResponseInfo {
        let mut metadata = Metadata::response_from_request(&request.metadata);
        metadata.authoritative = true;
        let edns = request.edns.as_ref().map(|req| {
            let mut edns = Edns::new();
            edns.set_max_payload(req.max_payload().max(512));
            edns
        });
        let mut builder = MessageResponseBuilder::from_message_request(request);
        if let Some(edns) = &edns {
            builder.edns(edns);
        }

        let query = match request.request_info() {
            Ok(info) if request.metadata.op_code == OpCode::Query => info.query,
            _ => {
                metadata.response_code = ResponseCode::NotImp;
                return send(&mut response_handle, builder.build_no_records(metadata)).await;
            }
        };
        let name = normalize(&query.original().name().to_ascii()).into_owned();
        let qtype = query.query_type();
        self.state.record_query(QueryLog {
            id: request.metadata.id,
            name: name.clone(),
            qtype,
            transport: match request.protocol() {
                Protocol::Tcp => Transport::Tcp,
                _ => Transport::Udp,
            },
        });

        let delay = self.state.delay_us.load(Ordering::Relaxed);
        if delay > 0 {
            tokio::time::sleep(Duration::from_micros(delay)).await;
        }
        match self.state.resolve(&name, qtype) {
            Outcome::Drop => ResponseInfo::from(Header {
                metadata,
                counts: HeaderCounts::default(),
            }),
            Outcome::Answer(code, answers) => {
                metadata.response_code = code;
                let negative = answers.is_empty()
                    && matches!(code, ResponseCode::NoError | ResponseCode::NXDomain);
                let soa = negative.then_some(&self.state.soa);
                let response = builder.build(
                    metadata,
                    answers.iter(),
                    std::iter::empty(),
                    soa,
                    std::iter::empty(),
                );
                send(&mut response_handle, response).await
            }
        }
    }
}

async fn send<'a, R: ResponseHandler>(
    handle: &mut R,
    response: hickory_server::zone_handler::MessageResponse<
        '_,
        'a,
        impl Iterator<Item = &'a Record> + Send + 'a,
        impl Iterator<Item = &'a Record> + Send + 'a,
        impl Iterator<Item = &'a Record> + Send + 'a,
        impl Iterator<Item = &'a Record> + Send + 'a,
    >,
) -> ResponseInfo {
    let metadata = *response.metadata();
    match handle.send_response(response).await {
        Ok(info) => info,
        Err(e) => {
            eprintln!("test DNS server: cannot send a response: {e}");
            ResponseInfo::from(Header {
                metadata,
                counts: HeaderCounts::default(),
            })
        }
    }
}

/// A running test DNS server. Dropping it stops the server.
pub struct TestDnsServer {
    addr: SocketAddr,
    state: Arc<State>,
    total: watch::Receiver<usize>,
    server: Server<Handler>,
}

impl std::fmt::Debug for TestDnsServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDnsServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl TestDnsServer {
    /// Starts a server for the zone text (panics if it does not parse or no port can be bound).
    pub async fn start(zone: &str) -> Self {
        let records = parse_zone(zone).unwrap_or_else(|e| panic!("bad test zone: {e}"));
        Self::from_records(records).await
    }

    /// Starts a server for records already parsed (or built in code).
    pub async fn from_records(records: Vec<(String, ZoneRecord)>) -> Self {
        let (total_tx, total) = watch::channel(0);
        let soa = SOA::new(
            Name::from_ascii("ns.test.").unwrap(),
            Name::from_ascii("hostmaster.test.").unwrap(),
            1,
            3600,
            600,
            86400,
            TTL,
        );
        let state = Arc::new(State {
            zone: build_zone(records),
            counts: Mutex::default(),
            total: total_tx,
            soa: Record::from_rdata(Name::from_ascii("test.").unwrap(), TTL, RData::SOA(soa)),
            delay_us: AtomicU64::new(0),
        });
        let (udp, tcp) = bind_pair().await;
        let addr = udp.local_addr().unwrap();
        let mut server = Server::new(Handler {
            state: state.clone(),
        });
        server.register_socket(udp);
        server.register_listener(tcp, TCP_IDLE_TIMEOUT, 64);
        TestDnsServer {
            addr,
            state,
            total,
            server,
        }
    }

    /// The address (127.0.0.1, UDP and TCP) the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Delays every answer by `delay` from now on (queries in flight at once wait side by side).
    pub fn set_delay(&self, delay: Duration) {
        let micros = u64::try_from(delay.as_micros()).unwrap_or(u64::MAX);
        self.state.delay_us.store(micros, Ordering::Relaxed);
    }

    /// A resolver querying only this server: a 2 second timeout and 1 try, so each lookup is
    /// one query (unless a UDP answer takes over ~333 ms, when hickory re-sends it).
    pub fn resolver(&self) -> HickoryResolver {
        self.resolver_with_timeout(Duration::from_secs(2))
    }

    /// As [`resolver`](Self::resolver), with the given timeout (for `TIMEOUT` lines, keep it short).
    pub fn resolver_with_timeout(&self, timeout: Duration) -> HickoryResolver {
        HickoryResolver::builder()
            .name_server(self.addr)
            .timeout(timeout)
            .attempts(1)
            .build()
            .unwrap()
    }

    /// How many queries for `name` (any case, trailing dot optional) of type `qtype` arrived.
    pub fn query_count(&self, name: &str, qtype: QueryType) -> usize {
        let key = (normalize(name).to_ascii_lowercase(), qtype);
        let counts = self.state.counts.lock().unwrap();
        counts.per_query.get(&key).copied().unwrap_or(0)
    }

    /// How many queries arrived in all.
    pub fn total_queries(&self) -> usize {
        *self.total.borrow()
    }

    /// How many queries arrived over TCP.
    pub fn tcp_queries(&self) -> usize {
        self.state.counts.lock().unwrap().tcp
    }

    /// Every query received so far, in order of arrival.
    pub fn queries(&self) -> Vec<QueryLog> {
        self.state.counts.lock().unwrap().log.clone()
    }

    /// How many lookups arrived: each query counted once however many times it was sent. A re-send
    /// over UDP keeps its message ID, so queries are counted once per (ID, name, type); the TCP
    /// query that follows a truncated UDP answer has a new ID, so a TCP query counts only when no
    /// earlier UDP query of the same name and type is left to pair it with.
    pub fn lookups(&self) -> usize {
        lookups_in(&self.state.counts.lock().unwrap().log)
    }

    /// As [`lookups`](Self::lookups), for one name and type.
    pub fn lookup_count(&self, name: &str, qtype: QueryType) -> usize {
        let name = normalize(name).to_ascii_lowercase();
        let counts = self.state.counts.lock().unwrap();
        let log: Vec<QueryLog> = counts
            .log
            .iter()
            .filter(|q| q.name == name && q.qtype == qtype)
            .cloned()
            .collect();
        lookups_in(&log)
    }

    /// Forgets the query log and the per-name counts (freeing their memory); the total keeps
    /// counting.
    pub fn reset_counts(&self) {
        *self.state.counts.lock().unwrap() = Counts::default();
    }

    /// Waits until at least `n` queries have arrived in all; panics (failing the test rather than
    /// hanging it) if they have not after 30 seconds.
    pub async fn wait_for_queries(&self, n: usize) {
        let mut total = self.total.clone();
        let arrived = tokio::time::timeout(
            std::time::Duration::from_secs(30),
            total.wait_for(|count| *count >= n),
        )
        .await;
        match arrived {
            Ok(seen) => drop(seen.expect("the server state outlives its handle")),
            Err(_) => panic!(
                "waited 30 s for {n} queries at the test DNS server; {} arrived",
                *self.total.borrow()
            ),
        }
    }
}

/// The lookups of a query log (see [`TestDnsServer::lookups`]).
fn lookups_in(log: &[QueryLog]) -> usize {
    let mut seen = std::collections::HashSet::new();
    let mut unpaired_udp: HashMap<(&str, QueryType), usize> = HashMap::new();
    let mut lookups = 0;
    for q in log {
        let key = (q.name.as_str(), q.qtype);
        match q.transport {
            Transport::Udp => {
                if seen.insert((q.id, key)) {
                    lookups += 1;
                    *unpaired_udp.entry(key).or_default() += 1;
                }
            }
            Transport::Tcp => match unpaired_udp.get_mut(&key) {
                Some(n) if *n > 0 => *n -= 1,
                _ => lookups += 1,
            },
        }
    }
    lookups
}

impl Drop for TestDnsServer {
    fn drop(&mut self) {
        // Dropping `server` aborts its tasks; cancelling first makes them stop accepting at once.
        self.server.shutdown_token().cancel();
    }
}

/// A UDP socket and a TCP listener on the same random port of 127.0.0.1.
async fn bind_pair() -> (UdpSocket, TcpListener) {
    let mut last_error = None;
    for _ in 0..20 {
        let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        match TcpListener::bind(udp.local_addr().unwrap()).await {
            Ok(tcp) => return (udp, tcp),
            Err(e) => last_error = Some(e),
        }
    }
    panic!("no port of 127.0.0.1 free for both UDP and TCP: {last_error:?}");
}

/// A name server that never answers: a UDP socket on 127.0.0.1 that reads and counts datagrams.
/// (Nothing listens on its TCP port.) Stops when dropped.
#[derive(Debug)]
pub struct BlackHole {
    addr: SocketAddr,
    received: watch::Receiver<usize>,
    task: JoinHandle<()>,
}

impl BlackHole {
    /// Binds the socket and starts reading.
    pub async fn start() -> Self {
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = socket.local_addr().unwrap();
        let (counter, received) = watch::channel(0);
        let task = tokio::spawn(async move {
            let mut buf = vec![0u8; 65535];
            while socket.recv_from(&mut buf).await.is_ok() {
                counter.send_modify(|n| *n += 1);
            }
        });
        BlackHole {
            addr,
            received,
            task,
        }
    }

    /// The address to configure as a name server.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many datagrams arrived.
    pub fn received(&self) -> usize {
        *self.received.borrow()
    }

    /// Waits until at least `n` datagrams have arrived.
    pub async fn wait_for_datagrams(&self, n: usize) {
        let mut received = self.received.clone();
        received
            .wait_for(|count| *count >= n)
            .await
            .expect("the reader task outlives its handle");
    }
}

impl Drop for BlackHole {
    fn drop(&mut self) {
        self.task.abort();
    }
}
