"""HTTP routes of generation: one router per resource, plus /internal for other services."""

from atelier_generation.api import books, credits, generation, images, internal, restorations, staff

# The cached reads first (`/images/gallery` before `/images/{id}`).
ROUTERS = (generation.public, images.gallery, generation.router, images.router, credits.router, restorations.router, books.router, books.pages,
           books.retries, staff.router, internal.router)

# The OpenAPI tags of these routers: what a client finds under each (the docs' sections).
TAGS = {
    "generation": "AI image generation: the models, the jobs and their progress.",
    "images": ("The images a customer generated, their favourites and the public gallery; files behind signed "
               "URLs."),
    "credits": "Credits: the balance, its history, the packs for sale and this period's usage.",
    "restorations": "Photo restoration: a free preview, the full image unlocked with credits or a share.",
    "books": "Storybooks: characters, pages and a cover, each illustrated in versions; retry allowances.",
    "staff": "Back office: a customer's credits and storybooks, every generation job.",
}
