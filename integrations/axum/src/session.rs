//! The [`Session`] extractor: the current session and its typed data.

use core::fmt;

use axum::extract::{FromRef, FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use tokenstile::session::SessionId;
use tokenstile::store::SessionRecord;

use crate::auth::{Auth, SessionCookie};
use crate::rejection::{Refusal, Rejection};

/// The current session of a request authenticated by the session cookie, with its data.
///
/// Extracting it:
///
/// 1. for a state-changing method, refuses a request from another origin
///    ([`Refusal::CrossOrigin`], `403`; see [`csrf`](crate::csrf));
/// 2. reads the session cookie (a missing, malformed or duplicated cookie is no session);
/// 3. loads the session, which records activity (written back at most once per touch
///    interval of the policy) and refuses a session past its timeouts.
///
/// Without a session the request gets `401` (or, for a browser navigation, a redirect to
/// the [login page](crate::AuthBuilder::login_page)); if the store fails, `503`. Use
/// `Option<Session<D>>` for pages that work with or without a session: it is `None` when
/// there is none, and still refuses cross-origin requests and store failures.
///
/// The state must give an [`Auth<D>`] through [`FromRef`] (an `Auth<D>` state does).
///
/// ```
/// use axum::{Router, routing::{get, post}};
/// use tokenstile::store::SharedStore;
/// use tokenstile_axum::{Auth, Rejection, Session};
///
/// #[derive(Clone)]
/// struct Data { visits: u32 }
///
/// async fn count(mut session: Session<Data>) -> Result<String, Rejection> {
///     session.data_mut().visits += 1;
///     session.save().await?; // versioned: a concurrent save gets 409
///     Ok(format!("{} visits", session.data().visits))
/// }
///
/// let auth: Auth<Data> = Auth::builder(SharedStore::new()).build();
/// let app: Router = Router::new().route("/count", post(count)).with_state(auth);
/// # let _ = app;
/// ```
pub struct Session<D: Send + Sync + 'static> {
    auth: Auth<D>,
    id: SessionId,
    record: SessionRecord<D>,
}

impl<D: Send + Sync + 'static> fmt::Debug for Session<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("record", &self.record)
            .finish_non_exhaustive()
    }
}

impl<D: Send + Sync + 'static> Session<D> {
    /// The session's data.
    #[must_use]
    pub fn data(&self) -> &D {
        self.record.data()
    }

    /// The session's data, to change and then [`save`](Self::save).
    pub fn data_mut(&mut self) -> &mut D {
        self.record.data_mut()
    }

    /// The stored record: deadlines, version, subject key.
    #[must_use]
    pub fn record(&self) -> &SessionRecord<D> {
        &self.record
    }

    /// Whether the session belongs to `subject`.
    #[must_use]
    pub fn belongs_to(&self, subject: &str) -> bool {
        self.record.belongs_to(subject)
    }

    /// Writes the changed data back, if nobody else wrote the session since it was loaded.
    ///
    /// # Errors
    ///
    /// [`Refusal::Conflict`] (`409`) if another request saved first: nothing was written;
    /// [`Refusal::NoSession`] if the session ended meanwhile; [`Refusal::Unavailable`].
    pub async fn save(&mut self) -> Result<(), Rejection> {
        let now = self.auth.now();
        let policy = *self.auth.policy();
        self.auth
            .backend()
            .save(policy, &self.id, &mut self.record, now)
            .await
            .map_err(|r| self.auth.settings().refuse(r, None))
    }

    /// Moves the session to a new ID (at a privilege change) and returns the cookie for
    /// the new ID; the old ID is dead at once.
    ///
    /// The session keeps its data as this request holds it, changes not yet saved
    /// included: a [`save`](Self::save) after the rotation writes them under the new ID,
    /// or gets `409` if another request saved the session since it was loaded, as it
    /// would without the rotation. A rotation by itself writes no data, so lowering a
    /// privilege is `data_mut`, `rotate`, `save` (or `save` first), and the `save` must
    /// succeed.
    ///
    /// Requests the browser sent with the old cookie before it got the new one find no
    /// session, a logout among them too: it ends nothing, and the session lives on under
    /// the new ID until the browser's next logout, its idle timeout or
    /// [`Auth::logout_everywhere`](crate::Auth::logout_everywhere). So rotate at privilege
    /// changes, not on every request.
    ///
    /// # Errors
    ///
    /// [`Refusal::NoSession`] if the session ended meanwhile; [`Refusal::Unavailable`].
    pub async fn rotate(&mut self) -> Result<SessionCookie, Rejection> {
        let now = self.auth.now();
        let policy = *self.auth.policy();
        let rotated = self
            .auth
            .backend()
            .rotate(policy, &self.id, now)
            .await
            .map_err(|r| self.auth.settings().refuse(r, None))?;
        self.id = rotated.id;
        // The stored record is not taken over: its data would replace this request's
        // unsaved changes, and its version would let a later save overwrite a write made
        // since this request loaded the session (rotations leave the version as it is).
        tracing::info!(target: "tokenstile_axum", event = "rotate");
        self.auth.cookie_after_rotation(&self.id, &rotated.record)
    }

    /// Ends this session (logout) and returns the cookie that clears it.
    ///
    /// # Errors
    ///
    /// [`Refusal::Unavailable`]: the session may still exist.
    pub async fn logout(self) -> Result<SessionCookie, Rejection> {
        let policy = *self.auth.policy();
        self.auth
            .backend()
            .destroy(policy, &self.id)
            .await
            .map_err(|r| self.auth.settings().refuse(r, None))?;
        tracing::info!(target: "tokenstile_axum", event = "logout");
        self.auth.clearing_cookie()
    }

    /// Ends every session of `subject`, this one included, and revokes its JWTs (see
    /// [`Auth::logout_everywhere`]); returns the number of sessions ended and the cookie
    /// that clears this one. Refused unless this session belongs to `subject`.
    ///
    /// # Errors
    ///
    /// [`Refusal::Internal`] (`500`, logged as an error) if the session is not
    /// `subject`'s, a mistake of the app (the subject must be the one it logged the
    /// session in with): nothing is ended; [`Refusal::Unavailable`].
    pub async fn logout_everywhere(
        self,
        subject: &str,
    ) -> Result<(usize, SessionCookie), Rejection> {
        if !self.belongs_to(subject) {
            tracing::error!(
                target: "tokenstile_axum",
                event = "internal_error",
                "logout_everywhere named a subject the session does not belong to"
            );
            return Err(self.auth.settings().refuse(Refusal::Internal, None));
        }
        let ended = self.auth.logout_everywhere(subject).await?;
        Ok((ended, self.auth.clearing_cookie()?))
    }
}

async fn extract<D: Send + Sync + 'static>(
    auth: &Auth<D>,
    parts: &Parts,
) -> Result<Session<D>, Refusal> {
    if !auth.settings().same_origin(&parts.method, &parts.headers) {
        return Err(Refusal::CrossOrigin);
    }
    let id = auth.presented_id(&parts.headers)?;
    let record = auth.backend().load(*auth.policy(), &id, auth.now()).await?;
    Ok(Session {
        auth: auth.clone(),
        id,
        record,
    })
}

impl<St, D> FromRequestParts<St> for Session<D>
where
    Auth<D>: FromRef<St>,
    St: Send + Sync,
    D: Send + Sync + 'static,
{
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, state: &St) -> Result<Self, Rejection> {
        let auth = Auth::<D>::from_ref(state);
        extract(&auth, parts)
            .await
            .map_err(|r| auth.settings().refuse(r, Some(parts)))
    }
}

impl<St, D> OptionalFromRequestParts<St> for Session<D>
where
    Auth<D>: FromRef<St>,
    St: Send + Sync,
    D: Send + Sync + 'static,
{
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, state: &St) -> Result<Option<Self>, Rejection> {
        let auth = Auth::<D>::from_ref(state);
        match extract(&auth, parts).await {
            Ok(session) => Ok(Some(session)),
            Err(Refusal::NoSession | Refusal::SessionExpired) => Ok(None),
            Err(r) => Err(auth.settings().refuse(r, Some(parts))),
        }
    }
}
