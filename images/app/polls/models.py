"""The two models of Django's tutorial: a question and its choices."""

from django.db import models


class Question(models.Model):
    question_text = models.CharField(max_length=200)
    pub_date = models.DateTimeField("date published", db_index=True)

    class Meta:
        ordering = ("-pub_date", "id")

    def __str__(self) -> str:
        return str(self.question_text)


class Choice(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="choices")
    choice_text = models.CharField(max_length=200)
    votes = models.IntegerField(default=0)

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return str(self.choice_text)
