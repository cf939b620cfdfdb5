//! A mount session over HTTP: the session API's calls as requests to `/v1/sessions/{id}/...`.

use crate::Client;
use bytes::Bytes;
use reqwest::Method;
use strata_core::api::{OpenSession, SessionInfo};
use strata_core::session::{Reply, Request, SessionApi};
use strata_core::{Error, ErrorKind, Result};
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct SessionClient {
    client: Client,
    id: String,
    pub info: SessionInfo,
}

impl Client {
    /// Opens a mount session on a volume folder (created unless read-only).
    pub async fn open_session(&self, volume: &str, subpath: &str, read_only: bool) -> Result<SessionClient> {
        let body = OpenSession {
            subpath: subpath.to_owned(),
            read_only,
        };
        let info: SessionInfo = self
            .json(self.volume_request(Method::POST, volume, &["sessions"])?.json(&body))
            .await?;
        Ok(SessionClient {
            client: self.clone(),
            id: info.id.to_string(),
            info,
        })
    }
}

impl SessionClient {
    pub fn id(&self) -> Uuid {
        self.info.id
    }

    fn session_request(&self, method: Method, rest: &[&str]) -> reqwest::RequestBuilder {
        let mut segments = vec!["sessions", &self.id];
        segments.extend_from_slice(rest);
        self.client.request(method, &segments)
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
        let req = self
            .session_request(Method::POST, &[request.name()])
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(request.to_json());
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
        let req = self.session_request(Method::PUT, &["blocks", hash]).body(data);
        self.client.send(req).await.map(drop)
    }

    async fn get_block(&self, hash: &str) -> Result<Bytes> {
        self.download(self.session_request(Method::GET, &["blocks", hash]))
            .await
    }

    async fn get_pieces(&self, hash: &str, first: usize, last: usize) -> Result<Bytes> {
        let req = self
            .session_request(Method::GET, &["blocks", hash, "pieces"])
            .query(&[("first", first), ("last", last)]);
        self.download(req).await
    }
}
