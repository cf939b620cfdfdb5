//! A mount session: the inode-level calls a mount makes.

use crate::Client;
use bytes::Bytes;
use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;
use strata_core::Result;
use strata_core::api::*;
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

    async fn call<B: Serialize, T: DeserializeOwned>(&self, op: &str, body: &B) -> Result<T> {
        self.client
            .json(
                self.client
                    .request(Method::POST, &["sessions", &self.id, op])
                    .json(body),
            )
            .await
    }

    async fn call_empty<B: Serialize>(&self, op: &str, body: &B) -> Result<()> {
        self.client
            .send(
                self.client
                    .request(Method::POST, &["sessions", &self.id, op])
                    .json(body),
            )
            .await
            .map(drop)
    }

    /// Extends the session's lease; the server drops the record locks of a session not renewed.
    pub async fn renew(&self) -> Result<()> {
        self.call_empty("renew", &serde_json::json!({})).await
    }

    pub async fn close(&self) -> Result<()> {
        self.client
            .send(self.client.request(Method::DELETE, &["sessions", &self.id]))
            .await
            .map(drop)
    }

    pub async fn lookup(&self, parent: NodeRef, name: &str) -> Result<Node> {
        self.call(
            "lookup",
            &NodeName {
                parent,
                name: name.into(),
            },
        )
        .await
    }

    pub async fn getattr(&self, node: NodeRef) -> Result<Stat> {
        self.call("getattr", &NodeOnly { node }).await
    }

    /// One page of a directory, after the name `after`.
    pub async fn readdir(&self, node: NodeRef, after: Option<&str>) -> Result<DirPage> {
        let req = ReadDir {
            node,
            after: after.map(str::to_owned),
            limit: None,
        };
        self.call("readdir", &req).await
    }

    pub async fn create(&self, req: &CreateNode) -> Result<Node> {
        self.call("create", req).await
    }

    pub async fn link(&self, node: NodeRef, parent: NodeRef, name: &str) -> Result<Node> {
        self.call(
            "link",
            &LinkNode {
                node,
                parent,
                name: name.into(),
            },
        )
        .await
    }

    pub async fn unlink(&self, parent: NodeRef, name: &str) -> Result<()> {
        self.call_empty(
            "unlink",
            &NodeName {
                parent,
                name: name.into(),
            },
        )
        .await
    }

    pub async fn rmdir(&self, parent: NodeRef, name: &str) -> Result<()> {
        self.call_empty(
            "rmdir",
            &NodeName {
                parent,
                name: name.into(),
            },
        )
        .await
    }

    pub async fn rename(&self, req: &RenameNode) -> Result<()> {
        self.call_empty("rename", req).await
    }

    pub async fn setattr(&self, req: &SetAttrNode) -> Result<Stat> {
        self.call("setattr", req).await
    }

    pub async fn content(&self, node: NodeRef) -> Result<Content> {
        self.call("content", &NodeOnly { node }).await
    }

    pub async fn write(&self, req: &WriteContent) -> Result<Stat> {
        self.call("write", req).await
    }

    pub async fn getxattr(&self, req: &Xattr) -> Result<XattrValue> {
        self.call("getxattr", req).await
    }

    pub async fn setxattr(&self, req: &Xattr) -> Result<()> {
        self.call_empty("setxattr", req).await
    }

    pub async fn listxattr(&self, node: NodeRef) -> Result<XattrNames> {
        self.call("listxattr", &NodeOnly { node }).await
    }

    pub async fn removexattr(&self, req: &Xattr) -> Result<()> {
        self.call_empty("removexattr", req).await
    }

    pub async fn sync(&self) -> Result<()> {
        self.call_empty("sync", &()).await
    }

    pub async fn getlk(&self, req: &LockRequest) -> Result<LockTest> {
        self.call("getlk", req).await
    }

    pub async fn setlk(&self, req: &LockRequest) -> Result<()> {
        self.call_empty("setlk", req).await
    }

    pub async fn statfs(&self) -> Result<FsStats> {
        self.call("statfs", &()).await
    }

    pub async fn put_block(&self, hash_hex: &str, data: Bytes) -> Result<()> {
        let req = self
            .client
            .request(Method::PUT, &["sessions", &self.id, "blocks", hash_hex])
            .body(data);
        self.client.send(req).await.map(drop)
    }

    pub async fn get_block(&self, hash_hex: &str) -> Result<Bytes> {
        let req = self
            .client
            .request(Method::GET, &["sessions", &self.id, "blocks", hash_hex]);
        self.download(req).await
    }

    /// Pieces `first..last` of a block, as the server sends them (see
    /// [`strata_core::pieces::check_reply`], which the caller must use before trusting them).
    pub async fn get_pieces(&self, hash_hex: &str, first: usize, last: usize) -> Result<Bytes> {
        let req = self
            .client
            .request(Method::GET, &["sessions", &self.id, "blocks", hash_hex, "pieces"])
            .query(&[("first", first), ("last", last)]);
        self.download(req).await
    }

    async fn download(&self, req: reqwest::RequestBuilder) -> Result<Bytes> {
        let resp = self.client.send(req).await?;
        resp.bytes()
            .await
            .map_err(|e| strata_core::Error::new(strata_core::ErrorKind::Unavailable, format!("block download: {e}")))
    }
}
