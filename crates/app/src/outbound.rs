//! Outbound HTTP: the one way the app posts JSON to a server it does not run (webhook deliveries, the interviewer
//! model's `chat/completions` endpoint).
//!
//! Why it is its own small client rather than reqwest: reqwest's rustls features would make every reqwest client
//! in the tree need a process-wide crypto provider (see the workspace `Cargo.toml`), and a webhook must check every
//! address it connects to against the platform's allowlist, which needs the name resolved here and the connection
//! opened to exactly the address checked. So: hyper's HTTP/1.1 over a fresh TCP connection per request (both users
//! make a handful of requests, not a stream), TLS by rustls with the ring provider and Mozilla's roots, and:
//! - **TLS set up once per process** ([`tls`]): the root store and config are built on first use and shared.
//! - **One deadline for the whole exchange**: lookup, connect, TLS, sending and reading the body; past it the
//!   answer is [`OutboundError::Timeout`], told apart from a refused or failed connection so callers can say which.
//! - **No redirects, no proxy**: a 3xx is an answer like any other. Following one would connect to an address
//!   nobody checked.
//! - **A bounded body**: at most [`Post::max_body`] bytes of the answer are read (0: the body is not read at all,
//!   for callers that need only the status), so a hostile or broken server cannot make us buffer without end.
//! - **A user agent** naming Fairloop and its version, unless the caller sends its own.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use http_body_util::BodyExt;

/// The `User-Agent` sent when the caller names none.
pub const USER_AGENT: &str = concat!("Fairloop/", env!("CARGO_PKG_VERSION"));

/// The TLS connector every outbound request uses, built on first use: roots and config never change while the
/// process runs, so building them per request (or per interview turn) would be waste.
pub fn tls() -> Result<tokio_rustls::TlsConnector, String> {
    static TLS: OnceLock<Result<tokio_rustls::TlsConnector, String>> = OnceLock::new();
    TLS.get_or_init(|| {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS setup: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
    })
    .clone()
}

/// A check of an address before it is connected to (the webhook allowlist): `Err` names why it is refused.
pub type AddressCheck<'a> = &'a (dyn Fn(&str, IpAddr) -> Result<(), String> + Sync);

/// One JSON post: where, what, and the limits it runs under.
pub struct Post<'a> {
    /// The URL (`http` or `https`); path and query are sent as they are.
    pub url: &'a url::Url,
    /// Headers besides `Host` and `Content-Type: application/json` (which are always sent).
    pub headers: &'a [(&'a str, String)],
    /// The JSON body, already serialized.
    pub body: String,
    /// The deadline for the whole exchange.
    pub timeout: Duration,
    /// The most bytes of the answer's body read; 0 reads none (the status is all the caller needs).
    pub max_body: usize,
    /// Called with the host and each address it resolved to, before any connection; `None`: any address.
    pub check: Option<AddressCheck<'a>>,
}

/// What the server answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The HTTP status code.
    pub status: u16,
    /// The body, at most [`Post::max_body`] bytes (empty when that is 0).
    pub body: Vec<u8>,
}

impl Answer {
    /// A 2xx status.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Why a post got no usable answer; each case says what a caller can do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboundError {
    /// The address check refused an address the host resolved to: retrying will not help until the policy changes.
    Refused(String),
    /// The name did not resolve, no address accepted the connection, TLS or the HTTP exchange failed: the server
    /// is down or unreachable, worth retrying later.
    Connect(String),
    /// No complete answer within the deadline.
    Timeout(Duration),
    /// The answer's body could not be read, or it was larger than allowed.
    Body(String),
}

impl std::fmt::Display for OutboundError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OutboundError::Refused(why) | OutboundError::Connect(why) => f.write_str(why),
            OutboundError::Timeout(t) => write!(f, "no answer within {} s", t.as_secs_f64()),
            OutboundError::Body(why) => write!(f, "reading the reply: {why}"),
        }
    }
}

/// Posts `post.body` as JSON to `post.url` under `post.timeout`; answers the status and the (bounded) body.
pub async fn post_json(post: Post<'_>) -> Result<Answer, OutboundError> {
    let timeout = post.timeout;
    match tokio::time::timeout(timeout, send(post)).await {
        Ok(r) => r,
        Err(_) => Err(OutboundError::Timeout(timeout)),
    }
}

/// Resolves, checks, connects and exchanges, with no deadline of its own.
async fn send(post: Post<'_>) -> Result<Answer, OutboundError> {
    let failed =
        |what: &str, e: &dyn std::fmt::Display| OutboundError::Connect(format!("{what}: {e}"));
    let url = post.url;
    let host = url.host_str().unwrap_or_default().to_string();
    let port = url.port_or_known_default().unwrap_or(80);
    let addrs: Vec<SocketAddr> = match url.host() {
        Some(url::Host::Ipv4(ip)) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
        Some(url::Host::Ipv6(ip)) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
        _ => tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|e| failed(&format!("looking up {host}"), &e))?
            .collect(),
    };
    if addrs.is_empty() {
        return Err(OutboundError::Connect(format!("{host} has no address")));
    }
    if let Some(check) = post.check {
        for a in &addrs {
            check(&host, a.ip()).map_err(OutboundError::Refused)?;
        }
    }
    let mut last = None;
    let mut stream = None;
    for a in &addrs {
        match tokio::net::TcpStream::connect(a).await {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last = Some(failed(&format!("connecting to {a}"), &e)),
        }
    }
    let Some(tcp) = stream else {
        return Err(last.unwrap_or_else(|| OutboundError::Connect("no address answered".into())));
    };
    let authority = match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.clone(),
    };
    let path = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    };
    let mut req = hyper::Request::post(path)
        .header(hyper::header::HOST, authority)
        .header(hyper::header::CONTENT_TYPE, "application/json");
    let mut named_agent = false;
    for (k, v) in post.headers {
        named_agent |= k.eq_ignore_ascii_case("user-agent");
        req = req.header(*k, v.as_str());
    }
    if !named_agent {
        req = req.header(hyper::header::USER_AGENT, USER_AGENT);
    }
    let req = req
        .body(http_body_util::Full::new(bytes::Bytes::from(post.body)))
        .map_err(|e| failed("building the request", &e))?;
    if url.scheme() == "https" {
        let name = rustls::pki_types::ServerName::try_from(host.clone())
            .map_err(|e| failed("the host name", &e))?;
        let tls = tls()
            .map_err(OutboundError::Connect)?
            .connect(name, tcp)
            .await
            .map_err(|e| failed("TLS", &e))?;
        exchange(tls, req, post.max_body).await
    } else {
        exchange(tcp, req, post.max_body).await
    }
}

/// One request and its answer over a connection.
async fn exchange<IO>(
    io: IO,
    req: hyper::Request<http_body_util::Full<bytes::Bytes>>,
    max_body: usize,
) -> Result<Answer, OutboundError>
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(io))
            .await
            .map_err(|e| OutboundError::Connect(format!("HTTP handshake: {e}")))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let resp = sender
        .send_request(req)
        .await
        .map_err(|e| OutboundError::Connect(format!("sending: {}", chain(&e))))?;
    let status = resp.status().as_u16();
    if max_body == 0 {
        return Ok(Answer {
            status,
            body: Vec::new(),
        });
    }
    let body = http_body_util::Limited::new(resp.into_body(), max_body)
        .collect()
        .await
        .map_err(|e| OutboundError::Body(e.to_string()))?
        .to_bytes();
    Ok(Answer {
        status,
        body: body.to_vec(),
    })
}

/// Every cause in an error's chain, joined: hyper's own message alone rarely says what failed.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let m = s.to_string();
        if !out.contains(&m) {
            out.push_str(": ");
            out.push_str(&m);
        }
        cur = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A one-shot HTTP server on loopback that answers `reply` after reading the request head.
    async fn server(reply: &'static [u8], delay: Duration) -> url::Url {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 4096];
            let _ = s.read(&mut buf).await;
            tokio::time::sleep(delay).await;
            let _ = s.write_all(reply).await;
            let _ = s.shutdown().await;
        });
        url::Url::parse(&format!("http://{addr}/hook?x=1")).unwrap()
    }

    fn post<'a>(url: &'a url::Url, max_body: usize, timeout: Duration) -> Post<'a> {
        Post {
            url,
            headers: &[],
            body: "{}".into(),
            timeout,
            max_body,
            check: None,
        }
    }

    #[tokio::test]
    async fn answers_status_and_a_bounded_body() {
        let reply =
            b"HTTP/1.1 201 Created\r\ncontent-length: 7\r\nconnection: close\r\n\r\n{\"a\":1}";
        let url = server(reply, Duration::ZERO).await;
        let a = post_json(post(&url, 1024, Duration::from_secs(5)))
            .await
            .unwrap();
        assert_eq!(a.status, 201);
        assert!(a.is_success());
        assert_eq!(a.body, b"{\"a\":1}");

        let url = server(reply, Duration::ZERO).await;
        let a = post_json(post(&url, 0, Duration::from_secs(5)))
            .await
            .unwrap();
        assert_eq!((a.status, a.body.len()), (201, 0), "0 reads no body");

        let url = server(reply, Duration::ZERO).await;
        let e = post_json(post(&url, 3, Duration::from_secs(5)))
            .await
            .unwrap_err();
        assert!(matches!(e, OutboundError::Body(_)), "{e:?}");
    }

    #[tokio::test]
    async fn tells_timeout_refusal_and_connection_failure_apart() {
        let reply = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
        let url = server(reply, Duration::from_secs(5)).await;
        let e = post_json(post(&url, 0, Duration::from_millis(200)))
            .await
            .unwrap_err();
        assert_eq!(e, OutboundError::Timeout(Duration::from_millis(200)));
        assert!(e.to_string().contains("no answer within"), "{e}");

        let url = server(reply, Duration::ZERO).await;
        let deny = |host: &str, ip: IpAddr| Err(format!("{host} is {ip}"));
        let mut p = post(&url, 0, Duration::from_secs(5));
        p.check = Some(&deny);
        let e = post_json(p).await.unwrap_err();
        assert_eq!(e, OutboundError::Refused("127.0.0.1 is 127.0.0.1".into()));

        // A port nothing listens on: bind one, then drop the listener.
        let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = closed.local_addr().unwrap();
        drop(closed);
        let url = url::Url::parse(&format!("http://{addr}/")).unwrap();
        let e = post_json(post(&url, 0, Duration::from_secs(5)))
            .await
            .unwrap_err();
        assert!(
            matches!(e, OutboundError::Connect(ref m) if m.starts_with("connecting to")),
            "{e:?}"
        );
    }
}
