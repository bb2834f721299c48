"""Three views: an HTML list (template + ORM), an HTML detail page and a JSON list."""

from django.db.models import Prefetch, QuerySet, Sum
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render

from polls.models import Choice, Question

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


def _limit(request: HttpRequest) -> int:
    try:
        value = int(request.GET.get("limit", DEFAULT_LIMIT))
    except ValueError:
        value = DEFAULT_LIMIT
    return max(1, min(value, MAX_LIMIT))


def _latest(limit: int) -> QuerySet[Question]:
    return (
        Question.objects.annotate(total_votes=Sum("choices__votes"))
        .prefetch_related(Prefetch("choices", queryset=Choice.objects.order_by("id")))
        .order_by("-pub_date", "id")[:limit]
    )


def index(request: HttpRequest) -> HttpResponse:
    questions = list(_latest(_limit(request)))
    return render(
        request,
        "polls/index.html",
        {"questions": questions, "question_count": Question.objects.count()},
    )


def detail(request: HttpRequest, question_id: int) -> HttpResponse:
    question = get_object_or_404(Question, pk=question_id)
    return render(request, "polls/detail.html", {"question": question})


def questions_json(request: HttpRequest) -> JsonResponse:
    data = [
        {
            "id": q.id,
            "question": q.question_text,
            "pub_date": q.pub_date.isoformat(),
            "total_votes": q.total_votes or 0,
            "choices": [
                {"id": c.id, "text": c.choice_text, "votes": c.votes} for c in q.choices.all()
            ],
        }
        for q in _latest(_limit(request))
    ]
    return JsonResponse({"count": len(data), "questions": data})


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok\n", content_type="text/plain")
