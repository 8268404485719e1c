//! `lookalike-api.json` in the store folder: where the `lookalike run` that holds the store
//! serves its API, and the id that API answers with (header [`HEADER`]).
//!
//! sled lets one process hold a store; while a service holds it, the store commands (`hits`,
//! `triage`, `export`, `outbox list`) go through its API. They find it here, not in their
//! config: a config names where an API *should* listen, and whatever listens there may be
//! another instance. The service writes the file once its API is bound (atomically), removes
//! any left by a previous run when it opens the store, and removes its own on a clean stop; a
//! file left by a crash names an id no running service answers with.

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The file's name in the store folder.
pub const FILE: &str = "lookalike-api.json";
/// The response header carrying the instance id (also sent by the CLI: a service refuses a
/// request meant for another instance).
pub const HEADER: &str = "x-lookalike-instance";
/// A larger file is not one of ours.
const MAX_BYTES: u64 = 4096;

/// One run of `lookalike run` with an API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instance {
    /// The address the API is bound to, as bound (`0.0.0.0:8080` when on every interface).
    pub listen: SocketAddr,
    /// Random, new at every start: tells this run from every other.
    pub instance: String,
    /// The process, for messages.
    pub pid: u32,
}

impl Instance {
    /// A new instance for an API bound to `listen`, with a fresh random id.
    pub fn new(listen: SocketAddr) -> Instance {
        use ring::rand::SecureRandom;
        let mut id = [0u8; 16];
        if ring::rand::SystemRandom::new().fill(&mut id).is_err() {
            // No system randomness: still different per run and per process.
            id[..8].copy_from_slice(&fastrand::u64(..).to_le_bytes());
            id[8..].copy_from_slice(&u64::from(std::process::id()).to_le_bytes());
        }
        Instance {
            listen,
            instance: hex::encode(id),
            pid: std::process::id(),
        }
    }

    /// Where a client on this machine reaches the API: a wildcard bind is reached on loopback.
    pub fn address(&self) -> SocketAddr {
        let ip = match self.listen.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        SocketAddr::new(ip, self.listen.port())
    }

    /// Writes the file into the store folder atomically: beside it, synced, renamed, and the
    /// folder synced, so a reader sees the whole file or none.
    pub fn publish(&self, store: &Path) -> io::Result<()> {
        let path = store.join(FILE);
        let tmp = store.join(format!("{FILE}.tmp"));
        let json = serde_json::to_vec_pretty(self).map_err(io::Error::other)?;
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&json)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, &path)?;
        if let Ok(dir) = std::fs::File::open(store) {
            let _ = dir.sync_all();
        }
        Ok(())
    }

    /// The file in the store folder, if there is one.
    pub fn read(store: &Path) -> Result<Option<Instance>, String> {
        let path = store.join(FILE);
        let mut text = String::new();
        match std::fs::File::open(&path) {
            Ok(f) => f
                .take(MAX_BYTES)
                .read_to_string(&mut text)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| format!("{} is not an API address file: {e}", path.display()))
    }

    /// Removes the file if it is still this instance's (a newer run may have replaced it).
    pub fn withdraw(&self, store: &Path) -> io::Result<()> {
        match Instance::read(store) {
            Ok(Some(on_disk)) if on_disk.instance != self.instance => Ok(()),
            _ => remove(&store.join(FILE)),
        }
    }

    /// Removes a file a previous run left behind. Only the holder of the store calls this.
    pub fn clear(store: &Path) -> io::Result<()> {
        remove(&store.join(FILE))
    }

    /// The file's path in `store`, for messages.
    pub fn path(store: &Path) -> PathBuf {
        store.join(FILE)
    }
}

fn remove(path: &Path) -> io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_read_withdrawn() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Instance::read(dir.path()).unwrap(), None);
        let a = Instance::new("0.0.0.0:8080".parse().unwrap());
        assert_eq!(a.instance.len(), 32);
        assert_ne!(a.instance, Instance::new(a.listen).instance);
        assert_eq!(a.address(), "127.0.0.1:8080".parse().unwrap());
        a.publish(dir.path()).unwrap();
        assert_eq!(Instance::read(dir.path()).unwrap(), Some(a.clone()));

        // Another run's file is not withdrawn by this one; its own is.
        let b = Instance::new("[::]:9000".parse().unwrap());
        assert_eq!(b.address(), "[::1]:9000".parse().unwrap());
        b.withdraw(dir.path()).unwrap();
        assert_eq!(Instance::read(dir.path()).unwrap(), Some(a.clone()));
        a.withdraw(dir.path()).unwrap();
        assert_eq!(Instance::read(dir.path()).unwrap(), None);
        a.withdraw(dir.path()).unwrap();

        std::fs::write(Instance::path(dir.path()), "not json").unwrap();
        assert!(Instance::read(dir.path()).is_err());
        Instance::clear(dir.path()).unwrap();
        assert_eq!(Instance::read(dir.path()).unwrap(), None);
    }
}
