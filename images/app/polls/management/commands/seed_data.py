"""Fill the database with deterministic sample polls (idempotent: it replaces what is there).

Run at image build time after `migrate`:  python manage.py migrate && python manage.py seed_data
"""

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from polls.models import Choice, Question

WORDS = (
    "alpine", "debian", "slim", "musl", "glibc", "python", "django", "uwsgi", "image", "layer",
    "build", "cache", "wheel", "container", "runtime", "memory", "allocator", "thread",
    "process", "request", "latency", "template", "query",
)  # fmt: skip
EPOCH = datetime(2020, 5, 14, tzinfo=UTC)


class Command(BaseCommand):
    help = "Create deterministic sample questions and choices (replaces existing polls)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--questions", type=int, default=200, help="questions to create")
        parser.add_argument("--choices", type=int, default=4, help="choices per question")
        parser.add_argument("--seed", type=int, default=2020, help="random seed")

    def handle(self, *args: Any, **options: Any) -> None:
        n_questions: int = options["questions"]
        n_choices: int = options["choices"]
        rng = random.Random(options["seed"])

        def sentence(n: int) -> str:
            return " ".join(rng.choice(WORDS) for _ in range(n))

        with transaction.atomic():
            Choice.objects.all().delete()
            Question.objects.all().delete()
            questions = Question.objects.bulk_create(
                Question(
                    question_text=f"{sentence(rng.randint(3, 8))}?",
                    pub_date=EPOCH + timedelta(hours=i, minutes=rng.randint(0, 59)),
                )
                for i in range(n_questions)
            )
            Choice.objects.bulk_create(
                Choice(
                    question=q, choice_text=sentence(rng.randint(1, 4)), votes=rng.randint(0, 500)
                )
                for q in questions
                for _ in range(n_choices)
            )
        self.stdout.write(
            self.style.SUCCESS(f"seeded {n_questions} questions with {n_choices} choices each")
        )
