//! The demo's user table: names and Argon2id password hashes.

use std::collections::HashMap;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// The demo users: (name, display name, password). The passwords are in the README.
const DEMO: &[(&str, &str, &str)] = &[("alice", "Alice", "wonderland"), ("bob", "Bob", "builder")];

/// User names and their PHC-format Argon2id hashes (a real app reads them from its
/// database; the demo hashes its built-in passwords at start-up).
pub(crate) struct Users {
    hashes: HashMap<String, (String, String)>,
    /// Checked against for unknown names, so they take as long as known ones.
    dummy: String,
}

fn hash(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| format!("no salt: {e}"))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| format!("salt: {e}"))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("hashing: {e}"))
}

impl Users {
    /// The demo users, hashed with Argon2id's default parameters.
    pub(crate) async fn demo() -> Result<Self, String> {
        tokio::task::spawn_blocking(|| {
            let mut hashes = HashMap::new();
            for (name, display, password) in DEMO {
                hashes.insert((*name).to_owned(), ((*display).to_owned(), hash(password)?));
            }
            Ok(Self {
                hashes,
                dummy: hash("no such user")?,
            })
        })
        .await
        .map_err(|e| format!("hashing task: {e}"))?
    }

    /// The display name of `name` if `password` is theirs. Hashing runs off the async
    /// workers.
    pub(crate) async fn check(
        self: &std::sync::Arc<Self>,
        name: &str,
        password: &str,
    ) -> Option<String> {
        let users = std::sync::Arc::clone(self);
        let name = name.to_owned();
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || {
            let (display, phc) = match users.hashes.get(&name) {
                Some((display, phc)) => (Some(display.clone()), phc.as_str()),
                None => (None, users.dummy.as_str()),
            };
            let parsed = PasswordHash::new(phc).ok()?;
            let ok = Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok();
            if ok { display } else { None }
        })
        .await
        .ok()
        .flatten()
    }
}
