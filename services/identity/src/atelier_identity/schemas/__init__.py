"""Request and response models of the identity API. Unknown request fields are ignored. One module per
resource, as the routers use them:

- `_shared`: what several resources share: the `Request` base, names, phones, passwords, tax rates;
- `users`: the profile, its subscription and quota, the internal lookups;
- `auth`: registration, sign-in, tokens and email verification;
- `account`: passwords and the email change;
- `magic_links` · `oauth` · `passkeys`: the other ways to sign in;
- `addresses`: the address book;
- `shipping_zones`: zones and methods, in a storefront and on their own staff routes;
- `storefronts`: the storefronts identity owns, their policies and legal entity;
- `groups`: a storefront's customer groups and their members (staff routes; imported from it);
- `dev`: the dev mailbox.
"""

from atelier_identity.schemas._shared import (
    CompanyName,
    DisplayName,
    Name,
    Password,
    Phone,
    Request,
    ShippingRate,
    TaxRate,
    TaxRates,
    Username,
)
from atelier_identity.schemas.account import (
    ChangePasswordRequest,
    EmailChangeConfirmResponse,
    EmailChangeRequest,
    PasswordChangedResponse,
    PasswordResetConfirm,
)
from atelier_identity.schemas.addresses import (
    AddressCreate,
    AddressList,
    AddressRead,
    AddressType,
    AddressUpdate,
    FullName,
    InternalAddressRead,
    Label,
    Line,
    OptionalEmail,
    OptionalText,
    PostalCode,
    ShortLine,
    State,
)
from atelier_identity.schemas.auth import (
    EmailRequest,
    LoginRequest,
    LoginResponse,
    MessageResponse,
    RefreshRequest,
    RegisterRequest,
    RegisterResponse,
    RegisterResponseWithTokens,
    SignInResponse,
    TokenPair,
    TokenRequest,
    VerifyEmailResponse,
    VerifyTokenResponse,
)
from atelier_identity.schemas.dev import Mailbox, MailboxMessage
from atelier_identity.schemas.magic_links import CheckUserResponse, MagicLinkRepeated, MagicLinkVerify
from atelier_identity.schemas.oauth import AccessResponse, OAuthExchangeRequest, OAuthStartRequest, OAuthStartResponse
from atelier_identity.schemas.passkeys import (
    DeviceName,
    PasskeyList,
    PasskeyLoginBegin,
    PasskeyLoginComplete,
    PasskeyRead,
    PasskeyRegisterBegin,
    PasskeyRegisterComplete,
    PasskeyRegistered,
    PasskeySignedUp,
    PasskeySignedUpWithTokens,
    PasskeySignupBegin,
)
from atelier_identity.schemas.shipping_zones import (
    Country,
    Region,
    ShippingCode,
    ShippingMethodCreate,
    ShippingMethodIn,
    ShippingMethodRead,
    ShippingMethodWrite,
    ShippingName,
    ShippingPrice,
    ShippingTierIn,
    ShippingZoneCreate,
    ShippingZoneIn,
    ShippingZoneList,
    ShippingZoneRead,
    ShippingZones,
    ShippingZoneWrite,
)
from atelier_identity.schemas.storefronts import (
    AbsoluteUrl,
    AlertEmail,
    CompatProfile,
    Currency,
    InternalStorefronts,
    LegalLine,
    LinkPath,
    LinkPaths,
    MailFrom,
    Origin,
    Origins,
    PublicStorefront,
    PublicTax,
    RegistrationNumber,
    RpId,
    Sells,
    Slug,
    StatementDescriptor,
    StorefrontCreate,
    StorefrontLegalIn,
    StorefrontList,
    StorefrontName,
    StorefrontPasskeyIn,
    StorefrontPoliciesIn,
    StorefrontRead,
    StorefrontTaxIn,
    StorefrontTaxUpdate,
    StorefrontUpdate,
    TaxNumber,
)
from atelier_identity.schemas.users import (
    DeleteAccountRequest,
    QuotaRead,
    SubscriptionRead,
    UserAccessRead,
    UserLookup,
    UserProfile,
    UserRead,
    UserUpdate,
)

__all__ = ["AbsoluteUrl", "AccessResponse", "AddressCreate", "AddressList", "AddressRead", "AddressType",
           "AddressUpdate", "AlertEmail", "ChangePasswordRequest", "CheckUserResponse", "CompanyName", "CompatProfile",
           "Country", "Currency", "DeleteAccountRequest", "DeviceName", "DisplayName", "EmailChangeConfirmResponse",
           "EmailChangeRequest", "EmailRequest", "FullName", "InternalAddressRead", "InternalStorefronts", "Label",
           "LegalLine", "Line", "LinkPath", "LinkPaths", "LoginRequest", "LoginResponse", "MagicLinkRepeated",
           "MagicLinkVerify", "MailFrom", "Mailbox", "MailboxMessage", "MessageResponse", "Name",
           "OAuthExchangeRequest", "OAuthStartRequest", "OAuthStartResponse", "OptionalEmail", "OptionalText", "Origin",
           "Origins", "PasskeyList", "PasskeyLoginBegin", "PasskeyLoginComplete", "PasskeyRead", "PasskeyRegisterBegin",
           "PasskeyRegisterComplete", "PasskeyRegistered", "PasskeySignedUp", "PasskeySignedUpWithTokens",
           "PasskeySignupBegin", "Password", "PasswordChangedResponse", "PasswordResetConfirm", "Phone", "PostalCode",
           "PublicStorefront", "PublicTax", "QuotaRead", "RefreshRequest", "Region", "RegisterRequest",
           "RegisterResponse", "RegisterResponseWithTokens", "RegistrationNumber", "Request", "RpId", "Sells",
           "ShippingCode", "ShippingMethodCreate", "ShippingMethodIn", "ShippingMethodRead", "ShippingMethodWrite",
           "ShippingName", "ShippingPrice", "ShippingRate", "ShippingTierIn", "ShippingZoneCreate", "ShippingZoneIn",
           "ShippingZoneList", "ShippingZoneRead", "ShippingZoneWrite", "ShippingZones", "ShortLine", "SignInResponse",
           "Slug", "State", "StatementDescriptor", "StorefrontCreate", "StorefrontLegalIn", "StorefrontList",
           "StorefrontName", "StorefrontPasskeyIn", "StorefrontPoliciesIn", "StorefrontRead", "StorefrontTaxIn",
           "StorefrontTaxUpdate", "StorefrontUpdate", "SubscriptionRead", "TaxNumber", "TaxRate", "TaxRates",
           "TokenPair", "TokenRequest", "UserAccessRead", "UserLookup", "UserProfile", "UserRead", "UserUpdate",
           "Username", "VerifyEmailResponse", "VerifyTokenResponse"]
