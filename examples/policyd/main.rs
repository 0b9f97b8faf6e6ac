//! `policyd`: a Postfix SMTPD policy server (SMTPD_POLICY_README) for SPF, in the manner of
//! pypolicyd-spf, on the crate's SPF verifier.
//!
//! ```text
//! cargo run --example policyd -- --config policyd.conf
//! cargo run --example policyd -- --config policyd.conf --listen 127.0.0.1:10023 --nameserver 127.0.0.1:5353
//! cargo run --example policyd -- --unix /var/spool/postfix/private/policyd-spf
//! cargo run --example policyd -- --config policyd.conf --check-config
//! ```
//!
//! Hook it into Postfix (`main.cf`), after `reject_unauth_destination`:
//!
//! ```text
//! smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination,
//!     check_policy_service { inet:127.0.0.1:10023, timeout=30s, default_action=DUNNO }
//! policyd-spf_time_limit = 3600
//! ```
//!
//! Every request is answered within `Lookup_Time` (the HELO and MAIL FROM checks of a message
//! share it) of being read, so a Postfix `timeout` above `Lookup_Time` (30s for the default 20)
//! never gives up on a slow answer. On SIGTERM or SIGINT the server stops accepting, answers the
//! requests it is evaluating, closes its connections, removes its UNIX socket and exits with 0.
//!
//! The configuration file has `Name = value` lines; `#` starts a comment at the start of a line or
//! after whitespace. Names as pypolicyd-spf's (this sample is read by the tests):
//!
//! ```text
//! HELO_reject = Fail              # Fail, Softfail, SPF_Not_Pass, Null, False, No_Check
//! Mail_From_reject = Fail         # Fail, Softfail, SPF_Not_Pass, False, No_Check
//! PermError_reject = False
//! TempError_Defer = False         # True: defer temperror ...
//! Defer_Reply = DEFER_IF_PERMIT   # ... as DEFER_IF_PERMIT 4.7.24 or 450 4.7.24
//! SPF_Enhanced_Status_Codes = Yes
//! TestOnly = 1                    # 0: never reject or defer, only prepend
//! skip_addresses = 127.0.0.0/8,::ffff:127.0.0.0/104,::1
//! Whitelist = 192.0.2.0/24
//! Header_Type = SPF               # SPF, AR, Both, None
//! Authserv_Id = HOSTNAME          # the receiver name in headers
//! Nameserver = system             # or IP:PORT[,IP:PORT]
//! DNS_Timeout = 5                 # seconds per DNS try
//! Lookup_Time = 20                # seconds for all SPF checks of one message
//! Void_Limit = 2
//! Record_Cache = 10000            # parsed SPF records kept; 0: off
//! Listen = 127.0.0.1:10023
//! Unix_Socket = /var/spool/postfix/private/policyd-spf
//! Max_Connections = 512
//! Idle_Timeout = 600              # seconds to wait for a whole request
//! debugLevel = 1                  # 0 errors, 1 one line per message, 2 every request
//! ```

// Some of the server's items are used by the tests only.
#[allow(dead_code)]
mod server;

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    ExitCode::from(server::run(&args).await)
}
