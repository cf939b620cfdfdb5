//! The session API a mount speaks, as a trait: the HTTP client in a real mount, an
//! in-process backend (with injected faults) in tests. Every method is one call to the
//! server; [`crate::vfs`] decides what to retry.

use bytes::Bytes;
use strata_client::SessionClient;
use strata_core::Result;
use strata_core::api::*;

#[async_trait::async_trait]
pub trait SessionApi: Send + Sync + 'static {
    /// What the server said when the session opened: its root, lease and flags.
    fn info(&self) -> &SessionInfo;
    async fn renew(&self) -> Result<()>;
    async fn close(&self) -> Result<()>;
    async fn lookup(&self, parent: NodeRef, name: &str) -> Result<Node>;
    async fn getattr(&self, node: NodeRef) -> Result<Stat>;
    /// One page of a directory, after the name `after`.
    async fn readdir(&self, node: NodeRef, after: Option<&str>) -> Result<DirPage>;
    async fn create(&self, req: &CreateNode) -> Result<Node>;
    async fn link(&self, node: NodeRef, parent: NodeRef, name: &str) -> Result<Node>;
    async fn unlink(&self, parent: NodeRef, name: &str) -> Result<()>;
    async fn rmdir(&self, parent: NodeRef, name: &str) -> Result<()>;
    async fn rename(&self, req: &RenameNode) -> Result<()>;
    async fn setattr(&self, req: &SetAttrNode) -> Result<Stat>;
    async fn content(&self, node: NodeRef) -> Result<Content>;
    async fn write(&self, req: &WriteContent) -> Result<Stat>;
    async fn getxattr(&self, req: &Xattr) -> Result<XattrValue>;
    async fn setxattr(&self, req: &Xattr) -> Result<()>;
    async fn listxattr(&self, node: NodeRef) -> Result<XattrNames>;
    async fn removexattr(&self, req: &Xattr) -> Result<()>;
    async fn sync(&self) -> Result<()>;
    async fn getlk(&self, req: &LockRequest) -> Result<LockTest>;
    async fn setlk(&self, req: &LockRequest) -> Result<()>;
    async fn statfs(&self) -> Result<FsStats>;
    async fn put_block(&self, hash: &str, data: Bytes) -> Result<()>;
    async fn get_block(&self, hash: &str) -> Result<Bytes>;
    /// Pieces `first..last` of a block with the values of all its pieces, unchecked.
    async fn get_pieces(&self, hash: &str, first: usize, last: usize) -> Result<Bytes>;
}

#[async_trait::async_trait]
impl SessionApi for SessionClient {
    fn info(&self) -> &SessionInfo {
        &self.info
    }

    async fn renew(&self) -> Result<()> {
        SessionClient::renew(self).await
    }

    async fn close(&self) -> Result<()> {
        SessionClient::close(self).await
    }

    async fn lookup(&self, parent: NodeRef, name: &str) -> Result<Node> {
        SessionClient::lookup(self, parent, name).await
    }

    async fn getattr(&self, node: NodeRef) -> Result<Stat> {
        SessionClient::getattr(self, node).await
    }

    async fn readdir(&self, node: NodeRef, after: Option<&str>) -> Result<DirPage> {
        SessionClient::readdir(self, node, after).await
    }

    async fn create(&self, req: &CreateNode) -> Result<Node> {
        SessionClient::create(self, req).await
    }

    async fn link(&self, node: NodeRef, parent: NodeRef, name: &str) -> Result<Node> {
        SessionClient::link(self, node, parent, name).await
    }

    async fn unlink(&self, parent: NodeRef, name: &str) -> Result<()> {
        SessionClient::unlink(self, parent, name).await
    }

    async fn rmdir(&self, parent: NodeRef, name: &str) -> Result<()> {
        SessionClient::rmdir(self, parent, name).await
    }

    async fn rename(&self, req: &RenameNode) -> Result<()> {
        SessionClient::rename(self, req).await
    }

    async fn setattr(&self, req: &SetAttrNode) -> Result<Stat> {
        SessionClient::setattr(self, req).await
    }

    async fn content(&self, node: NodeRef) -> Result<Content> {
        SessionClient::content(self, node).await
    }

    async fn write(&self, req: &WriteContent) -> Result<Stat> {
        SessionClient::write(self, req).await
    }

    async fn getxattr(&self, req: &Xattr) -> Result<XattrValue> {
        SessionClient::getxattr(self, req).await
    }

    async fn setxattr(&self, req: &Xattr) -> Result<()> {
        SessionClient::setxattr(self, req).await
    }

    async fn listxattr(&self, node: NodeRef) -> Result<XattrNames> {
        SessionClient::listxattr(self, node).await
    }

    async fn removexattr(&self, req: &Xattr) -> Result<()> {
        SessionClient::removexattr(self, req).await
    }

    async fn sync(&self) -> Result<()> {
        SessionClient::sync(self).await
    }

    async fn getlk(&self, req: &LockRequest) -> Result<LockTest> {
        SessionClient::getlk(self, req).await
    }

    async fn setlk(&self, req: &LockRequest) -> Result<()> {
        SessionClient::setlk(self, req).await
    }

    async fn statfs(&self) -> Result<FsStats> {
        SessionClient::statfs(self).await
    }

    async fn put_block(&self, hash: &str, data: Bytes) -> Result<()> {
        SessionClient::put_block(self, hash, data).await
    }

    async fn get_block(&self, hash: &str) -> Result<Bytes> {
        SessionClient::get_block(self, hash).await
    }

    async fn get_pieces(&self, hash: &str, first: usize, last: usize) -> Result<Bytes> {
        SessionClient::get_pieces(self, hash, first, last).await
    }
}
