"""Queries of the generation service, and nothing else: no rules, no commits. One module per aggregate:

- `credits`: wallets, their transactions, the credit packs on sale;
- `subscriptions`: tiers and monthly quotas;
- `jobs`: generation jobs and the worker's claims;
- `images`: generated images, tags, favorites, the gallery;
- `restorations`: restorations and their share unlocks;
- `books`: storybooks (S0), their items, versions and retry packs;
- `owners`: the owner rows and the hand-over of an anonymous id's rows to its user.

Ownership lives in one method per owned table (`readable_statement`): a row the caller does
not own is simply not found. Every state change others could race on is one guarded
`UPDATE … WHERE <precondition> RETURNING` (psycopg's rowcount is not reliable, RETURNING is).
"""

from atelier_generation.repository.books import (
    BookItemRepository,
    BookRepository,
    RetryPackRepository,
    VersionRepository,
)
from atelier_generation.repository.credits import CreditPackRepository, TransactionRepository, WalletRepository
from atelier_generation.repository.images import ImageRepository
from atelier_generation.repository.jobs import JobRepository
from atelier_generation.repository.owners import OwnerRepository
from atelier_generation.repository.restorations import RestorationRepository, ShareRepository
from atelier_generation.repository.subscriptions import SubscriptionRepository

__all__ = ["BookItemRepository", "BookRepository", "CreditPackRepository", "ImageRepository", "JobRepository",
           "OwnerRepository", "RestorationRepository", "RetryPackRepository", "ShareRepository",
           "SubscriptionRepository", "TransactionRepository", "VersionRepository", "WalletRepository"]
