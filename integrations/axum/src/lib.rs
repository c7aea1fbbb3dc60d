#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc = include_str!("../README.md")]

extern crate alloc;

mod auth;
mod backend;
pub mod csrf;
mod jwt;
pub mod refresh;
mod rejection;
mod session;
mod settings;
pub mod testing;

pub use auth::{Auth, AuthBuilder, SessionCookie};
pub use csrf::CsrfLayer;
pub use jwt::{Bearer, Jwt, StandardClaims, StatelessBearer, TokenInfo};
pub use refresh::{Refresh, RefreshFamily, Tokens};
pub use rejection::{Refusal, Rejection};
pub use session::Session;
pub use settings::BearerMode;
