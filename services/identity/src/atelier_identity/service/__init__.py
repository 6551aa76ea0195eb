"""Identity's use cases, one module each, built per request or event from `(session, context)`;
every method may flush but never commits."""

from atelier_identity.service._shared import Guard, IssuedTokens, Sessions, SignedIn, Verification
from atelier_identity.service.addresses import AddressService
from atelier_identity.service.auth import AuthService, Registration
from atelier_identity.service.auto_registration import AutoRegistration
from atelier_identity.service.claims import Claims
from atelier_identity.service.email_change import EmailChangeService
from atelier_identity.service.magic_links import MagicLinkService
from atelier_identity.service.notifications import NotificationService
from atelier_identity.service.oauth import CallbackOutcome, OAuthService
from atelier_identity.service.passkeys import PasskeyService
from atelier_identity.service.passwords import PasswordService
from atelier_identity.service.staff import change_staff_roles, set_password, set_suspended
from atelier_identity.service.storefronts import StorefrontService
from atelier_identity.service.users import UserService, create_user, create_user_if_new

__all__ = ["AddressService", "AuthService", "AutoRegistration", "CallbackOutcome", "Claims", "EmailChangeService",
           "Guard", "IssuedTokens", "MagicLinkService", "NotificationService", "OAuthService", "PasskeyService",
           "PasswordService", "Registration", "Sessions", "SignedIn", "StorefrontService", "UserService", "Verification",
           "change_staff_roles", "create_user", "create_user_if_new", "set_password", "set_suspended"]
