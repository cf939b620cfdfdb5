//! A mount session over HTTP: the session API's calls as requests to `/v1/sessions/{id}/...`.

use crate::Client;
use bytes::Bytes;
use reqwest::Method;
use strata_core::api::{OpenSession, SessionInfo};
use strata_core::session::{Reply, Request, SessionApi};
use strata_core::{Error, ErrorKind, Result};
use uuid::Uuid;

/// How long a session call waits for its whole answer, by default: a server that stops
/// answering (frozen, or cut off without a reset) fails the call as unreachable, and the
/// mount's retries and `--retry-for` take over.
pub const ANSWER_WITHIN: std::time::Duration = std::time::Duration::from_secs(60);

/// The least rate a block transfer is given time for, on top of the answer's wait: a slow
/// link is slow, not gone.
const LEAST_RATE: u64 = 64 << 10;

/// How long a transfer of `bytes` may take beyond waiting for the answer.
fn transfer_time(bytes: u64) -> std::time::Duration {
    std::time::Duration::from_secs(bytes.div_ceil(LEAST_RATE))
}

#[derive(Debug, Clone)]
pub struct SessionClient {
    client: Client,
    id: String,
    pub info: SessionInfo,
    answer_within: std::time::Duration,
}

impl Client {
    /// Opens a mount session on a volume folder (created unless read-only).
    pub async fn open_session(&self, volume: &str, subpath: &str, read_only: bool) -> Result<SessionClient> {
        let body = OpenSession {
            subpath: subpath.to_owned(),
            read_only,
        };
        // Opening may wait for the mount that owns the volume to give it back (a lease at most).
        let req = self.volume_request(Method::POST, volume, &["sessions"])?;
        let info: SessionInfo = self.json(req.json(&body).timeout(2 * ANSWER_WITHIN)).await?;
        Ok(SessionClient {
            client: self.clone(),
            id: info.id.to_string(),
            info,
            answer_within: ANSWER_WITHIN,
        })
    }
}

impl Client {
    /// A session opened before (by a mount process that ended), to go on with while its
    /// lease lasts.
    pub fn resume_session(&self, info: SessionInfo) -> SessionClient {
        SessionClient {
            client: self.clone(),
            id: info.id.to_string(),
            info,
            answer_within: ANSWER_WITHIN,
        }
    }
}

impl SessionClient {
    pub fn id(&self) -> Uuid {
        self.info.id
    }

    /// Calls wait at most `limit` for their whole answer (at least a second).
    pub fn answering_within(mut self, limit: std::time::Duration) -> Self {
        self.answer_within = limit.max(std::time::Duration::from_secs(1));
        self
    }

    fn session_request(&self, method: Method, rest: &[&str]) -> reqwest::RequestBuilder {
        let mut segments = vec!["sessions", &self.id];
        segments.extend_from_slice(rest);
        self.client.request(method, &segments).timeout(self.answer_within)
    }

    async fn download(&self, req: reqwest::RequestBuilder) -> Result<Bytes> {
        let resp = self.client.send(req).await?;
        resp.bytes().await.map_err(|e| unavailable("a download", e))
    }
}

fn unavailable(what: &str, e: reqwest::Error) -> Error {
    Error::new(ErrorKind::Unavailable, format!("{what} broke off: {e}"))
}

#[async_trait::async_trait]
impl SessionApi for SessionClient {
    fn info(&self) -> &SessionInfo {
        &self.info
    }

    async fn call(&self, request: Request) -> Result<Reply> {
        let mut req = self
            .session_request(Method::POST, &[request.name()])
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(request.to_json());
        if let Request::AwaitRecall(wait) = &request {
            // A wait for a recall is answered only at its end: that is not a silent server.
            let waited = std::time::Duration::from_millis(wait.wait_ms);
            req = req.timeout(self.answer_within.saturating_add(waited));
        }
        let body = self.download(req).await?;
        request
            .reply_from_json(&body)
            .map_err(|e| Error::internal(format!("unexpected answer from the server: {}", e.message)))
    }

    async fn renew(&self) -> Result<()> {
        let req = self.session_request(Method::POST, &["renew"]);
        self.client.send(req).await.map(drop)
    }

    async fn close(&self) -> Result<()> {
        self.client
            .send(self.session_request(Method::DELETE, &[]))
            .await
            .map(drop)
    }

    async fn put_block(&self, hash: &str, data: Bytes) -> Result<()> {
        let within = self.answer_within + transfer_time(data.len() as u64);
        let req = self
            .session_request(Method::PUT, &["blocks", hash])
            .timeout(within)
            .body(data);
        self.client.send(req).await.map(drop)
    }

    async fn get_block(&self, hash: &str) -> Result<Bytes> {
        let within = self.answer_within + transfer_time(strata_core::BLOCK_SIZE);
        self.download(self.session_request(Method::GET, &["blocks", hash]).timeout(within))
            .await
    }

    async fn get_pieces(&self, hash: &str, first: usize, last: usize) -> Result<Bytes> {
        let req = self
            .session_request(Method::GET, &["blocks", hash, "pieces"])
            .query(&[("first", first), ("last", last)]);
        self.download(req).await
    }
}
