"""Changelist rows at the cost of their cells: each row's link is built once per page.

Django's changelist reverses the change URL of every row, and on a filtered list it also
resolves that URL again to decide which filters the link preserves
(`add_preserved_filters`): about a third of a filtered page's row rendering went there,
for the same answer on every row. `RowLinksChangeList` works the link out once with a
placeholder for the primary key, as Django would for any row, and puts each row's key in
its place; the links keep the filters exactly as Django writes them.
"""

from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import quote
from django.contrib.admin.views.main import ChangeList
from django.urls import reverse

_PK = "__row_pk__"


class RowLinksChangeList(ChangeList):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The row links carry the filters already (`url_for_result`); the template tag that
        # would add them to each link again has nothing left to add.
        self.row_filters, self.preserved_filters = self.preserved_filters, ""
        self._row_link = None

    def url_for_result(self, result):
        if self._row_link is None:
            url = reverse(
                f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
                args=(_PK,),
                current_app=self.model_admin.admin_site.name,
            )
            context = {"preserved_filters": self.row_filters, "opts": self.opts}
            self._row_link = add_preserved_filters(context, url)
        return self._row_link.replace(_PK, str(quote(getattr(result, self.pk_attname))), 1)
