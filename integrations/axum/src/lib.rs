// README.md links to items with full docs.rs URLs, so that its links also work on the
// repository page and on crates.io; these definitions come first and so win in the crate
// docs, pointing at the items of this build.
//! [`Auth::login`]: Auth::login
//! [`Auth::logout`]: Auth::logout
//! [`Auth::logout_everywhere`]: Auth::logout_everywhere
//! [`AuthBuilder::allowed_origin`]: AuthBuilder::allowed_origin
//! [`AuthBuilder::login_page`]: AuthBuilder::login_page
//! [`AuthBuilder::on_rejection`]: AuthBuilder::on_rejection
//! [`BearerMode::Forbidden`]: BearerMode::Forbidden
//! [`BearerMode::Rfc6750`]: BearerMode::Rfc6750
//! [`Bearer`]: Bearer
//! [`Bearer<C>`]: Bearer
//! [`CsrfLayer`]: CsrfLayer
//! [`Session`]: Session
//! [`Session<D>`]: Session
//! [`StatelessBearer<C>`]: StatelessBearer
//! [`csrf`]: csrf
//! [`testing`]: testing
//! [`refresh::rotate`]: refresh::rotate
//! [`refresh::logout`]: refresh::logout
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
