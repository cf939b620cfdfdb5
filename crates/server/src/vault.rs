//! The keys of the organizations that encrypt: unwrapped with the server's master key when
//! first needed, then kept for a few seconds (a key another server added is seen by then,
//! and at once by a read that meets a block encrypted with it).

use crate::state::on_meta as meta;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use strata_blocks::keys::{self, KeyWrap, OrgKeys};
use strata_blocks::{BlockError, Domain};
use strata_core::{Error, ErrorKind, Result};
use strata_meta::MetaStore;

/// How long unwrapped keys are kept before they are read again.
const KEPT_FOR: Duration = Duration::from_secs(5);

#[derive(Clone, Default)]
pub struct Vault {
    master: Option<Arc<dyn KeyWrap>>,
    kept: Arc<Mutex<HashMap<String, (Instant, Domain)>>>,
}

impl Vault {
    pub fn new(master: Option<Arc<dyn KeyWrap>>) -> Vault {
        Vault {
            master,
            kept: Arc::default(),
        }
    }

    fn master(&self, org: &str) -> Result<&Arc<dyn KeyWrap>> {
        self.master.as_ref().ok_or_else(|| {
            let msg = format!(
                "organization {org} encrypts its blocks and this server has no master key (--master-key-file or STRATA_MASTER_KEY)"
            );
            Error::new(ErrorKind::Internal, msg)
        })
    }

    /// Whose blocks an organization's are: plain, or its own, encrypted.
    pub async fn domain(&self, store: &Arc<dyn MetaStore>, org: &str) -> Result<Domain> {
        if let Some((at, domain)) = self.kept.lock().unwrap_or_else(|p| p.into_inner()).get(org)
            && at.elapsed() < KEPT_FOR
        {
            return Ok(domain.clone());
        }
        self.load(store, org).await
    }

    /// Reads an organization's keys again, whatever is kept.
    pub async fn load(&self, store: &Arc<dyn MetaStore>, org: &str) -> Result<Domain> {
        let name = org.to_owned();
        let wrapped = meta(store, move |m| m.org_keys(&name)).await?;
        let domain = match wrapped {
            None => Domain::Plain,
            Some(w) => {
                let master = self.master(org)?;
                let wrong = || {
                    let msg = format!(
                        "this server's master key does not open organization {org}'s keys: it is not the key they were made with"
                    );
                    Error::new(ErrorKind::Internal, msg)
                };
                let naming = master.unwrap(&keys::purpose(org, None), &w.naming).ok_or_else(wrong)?;
                let mut data = HashMap::new();
                for (id, wrapped) in &w.data {
                    let key = master
                        .unwrap(&keys::purpose(org, Some(*id)), wrapped)
                        .ok_or_else(wrong)?;
                    data.insert(*id, key);
                }
                if !data.contains_key(&w.current) {
                    return Err(Error::internal(format!(
                        "organization {org} has no data key {}",
                        w.current
                    )));
                }
                Domain::Org(Arc::new(OrgKeys {
                    org: org.to_owned(),
                    naming,
                    current: w.current,
                    data,
                }))
            }
        };
        self.kept
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(org.to_owned(), (Instant::now(), domain.clone()));
        Ok(domain)
    }

    /// Runs `read` on an organization's blocks; when it meets a data key this server has not
    /// seen (added on another server a moment ago), once more with the keys read again.
    /// Fails only when the keys cannot be had; `read`'s own answer comes back as it is.
    pub async fn reading<T, F, Fut>(
        &self,
        store: &Arc<dyn MetaStore>,
        org: &str,
        read: F,
    ) -> Result<std::result::Result<T, BlockError>>
    where
        F: Fn(Domain) -> Fut,
        Fut: std::future::Future<Output = std::result::Result<T, BlockError>>,
    {
        let domain = self.domain(store, org).await?;
        match read(domain).await {
            Err(BlockError::Locked { .. }) => Ok(read(self.load(store, org).await?).await),
            done => Ok(done),
        }
    }

    /// Makes an organization encrypt its new blocks from now on.
    pub async fn encrypt(&self, store: &Arc<dyn MetaStore>, org: &str) -> Result<()> {
        // Asked of a server that cannot: the request, not the server, is wrong.
        let master = self.master.as_ref().ok_or_else(|| {
            let msg = "this server has no master key to wrap an organization's keys with: start it with --master-key-file (or STRATA_MASTER_KEY)";
            Error::new(ErrorKind::InvalidInput, msg).with_field("org")
        })?;
        let naming = master.wrap(&keys::purpose(org, None), &keys::random_key());
        let data = master.wrap(&keys::purpose(org, Some(1)), &keys::random_key());
        let name = org.to_owned();
        meta(store, move |m| m.encrypt_org(&name, &naming, &data)).await?;
        self.load(store, org).await.map(drop)
    }

    /// Gives an organization a new data key for the blocks it stores from now on; returns
    /// its number.
    pub async fn rotate(&self, store: &Arc<dyn MetaStore>, org: &str) -> Result<u32> {
        let Domain::Org(keys) = self.load(store, org).await? else {
            return Err(Error::invalid("org", format!("organization {org} does not encrypt")));
        };
        let id = keys.current + 1;
        if id > strata_blocks::envelope::MAX_KEY_ID {
            return Err(Error::new(ErrorKind::LimitExceeded, "no more data keys can be made"));
        }
        let wrapped = self
            .master(org)?
            .wrap(&keys::purpose(org, Some(id)), &keys::random_key());
        let name = org.to_owned();
        meta(store, move |m| m.add_data_key(&name, id, &wrapped)).await?;
        self.load(store, org).await?;
        Ok(id)
    }
}

/// Rewrites every block an organization keeps under its own names with its current data
/// key (and the server's compression), unless it already is. One block at a time; a block
/// collected meanwhile is passed over. Blocks it stored before it encrypted stay as they
/// are. Blocks sealed with an older key by servers that had not seen the new one yet (5 s)
/// may land after the pass read its list: run it once more after that.
pub async fn reencrypt(state: &crate::state::AppState, org: &str) -> Result<strata_core::api::Reencrypted> {
    let Domain::Org(keys) = state.vault.load(&state.meta, org).await? else {
        return Err(Error::invalid("org", format!("organization {org} does not encrypt")));
    };
    let domain = Domain::Org(keys.clone());
    let name = org.to_owned();
    let hashes = meta(&state.meta, move |m| m.org_block_copies(&name)).await?;
    let mut done = strata_core::api::Reencrypted {
        data_key: keys.current,
        ..Default::default()
    };
    for hash in hashes {
        let plain = match state.blocks.get_keyed(&domain, &hash).await {
            Ok((_, Some(id))) if id == keys.current => {
                done.current += 1;
                continue;
            }
            Err(BlockError::Missing(_)) => continue,
            read => read?.0,
        };
        // Registered again before the rewrite: a collection pass that took it meanwhile
        // makes this fail, rather than the rewrite putting back a block nothing registers.
        let (size, copy) = (plain.len() as u64, org.to_owned());
        match meta(&state.meta, move |m| m.touch_block(&hash, size, size, Some(&copy))).await {
            Err(e) if e.kind == ErrorKind::Unavailable => continue,
            touched => touched?,
        }
        let (sealing, compression) = (domain.clone(), state.compression);
        let block = tokio::task::spawn_blocking(move || {
            let (_, values) = strata_core::pieces::hash_block(&plain);
            strata_blocks::Sealed::new(&hash, &plain, &values, compression, &sealing)
        })
        .await
        .map_err(|e| Error::internal(e.to_string()))?;
        state.blocks.rewrite(&domain, &hash, &block).await?;
        done.rewritten += 1;
    }
    Ok(done)
}
