//! The HTTP client that S3 requests go through: hyper with rustls on the ring crypto provider and the Mozilla
//! root certificates compiled in.
//!
//! object_store's own client is reqwest, whose TLS either builds aws-lc (the slowest part of a fresh release
//! build) or, without a built-in provider, makes *every* reqwest client in the process panic until someone
//! installs one, which would reach into unrelated code and tests through cargo's feature unification. A small
//! connector of our own keeps S3's TLS to itself. Connection set-up is limited to 10 s and waiting for a
//! response's headers to 60 s (object_store retries both); bodies stream without a limit.

use std::time::Duration;

use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector as TcpConnector;
use object_store::client::{
    ClientOptions, HttpClient, HttpConnector, HttpError, HttpErrorKind, HttpRequest,
    HttpRequestBody, HttpResponse, HttpResponseBody, HttpService,
};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(60);

/// Makes [`HttpClient`]s over hyper and rustls (ring), for `AmazonS3Builder::with_http_connector`.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct RingConnector;

impl HttpConnector for RingConnector {
    fn connect(&self, _options: &ClientOptions) -> object_store::Result<HttpClient> {
        let mut tcp = TcpConnector::new();
        tcp.enforce_http(false);
        tcp.set_connect_timeout(Some(CONNECT_TIMEOUT));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
            .map_err(|e| object_store::Error::Generic {
                store: "S3",
                source: Box::new(e),
            })?
            .https_or_http()
            .enable_http1()
            .wrap_connector(tcp);
        let client = Client::builder(hyper_util::rt::TokioExecutor::new()).build(https);
        Ok(HttpClient::new(Hyper { client }))
    }
}

struct Hyper {
    client: Client<HttpsConnector<TcpConnector>, HttpRequestBody>,
}

impl std::fmt::Debug for Hyper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Hyper(rustls, ring)")
    }
}

#[async_trait::async_trait]
impl HttpService for Hyper {
    async fn call(&self, req: HttpRequest) -> Result<HttpResponse, HttpError> {
        let response = tokio::time::timeout(RESPONSE_TIMEOUT, self.client.request(req))
            .await
            .map_err(|e| HttpError::new(HttpErrorKind::Timeout, e))?
            .map_err(|e| {
                let kind = if e.is_connect() {
                    HttpErrorKind::Connect
                } else {
                    HttpErrorKind::Request
                };
                HttpError::new(kind, e)
            })?;
        let (parts, body) = response.into_parts();
        let body = http_body_util::BodyExt::map_err(body, |e| {
            HttpError::new(HttpErrorKind::Interrupted, e)
        });
        Ok(HttpResponse::from_parts(parts, HttpResponseBody::new(body)))
    }
}
