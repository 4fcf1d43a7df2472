from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("email is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A person who signs in with an email address: a customer or a support agent."""

    username = None
    email = models.EmailField("email address", unique=True)
    full_name = models.CharField(max_length=150, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        ordering = ["email"]
        # The changelist's flags pick out a few users among millions: each few has its own
        # small index in the list's order.
        indexes = [
            models.Index(fields=["email"], condition=models.Q(is_staff=True), name="user_staff"),
            models.Index(
                fields=["email"], condition=models.Q(is_superuser=True), name="user_superuser"
            ),
            models.Index(
                fields=["email"], condition=models.Q(is_active=False), name="user_inactive"
            ),
        ]

    def __str__(self) -> str:
        return (self.full_name and f"{self.full_name} <{self.email}>") or self.email
