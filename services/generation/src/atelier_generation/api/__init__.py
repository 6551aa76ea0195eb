"""HTTP routes of generation: one router per resource, plus /internal for other services."""

from atelier_generation.api import books, credits, generation, images, internal, restorations, staff

# The cached reads first (`/images/gallery` before `/images/{id}`).
ROUTERS = (generation.public, images.gallery, generation.router, images.router, credits.router, restorations.router, books.router, books.pages,
           books.retries, staff.router, internal.router)
