"""Seven public SaaS policies (paraphrased in `shared/policies/external.md`), encoded as
`PolicyRules` with no code written for any of them: examples of what a company adopting
the product can say, loaded as example versions by
`billing/migrations/0010_generality_example_policies.py` and never offered to customers.

Each clause names the row of external.md it encodes; `reading` records our choice where
the text is silent. A company's later versions add what the rules learnt to say since;
what they still cannot say is listed in docs/policy.md ("Writing your own policy").
"""

from ..rules import PolicyRules
from .adobe import ADOBE
from .atlassian import ATLASSIAN
from .basecamp import BASECAMP_CLASSIC, BASECAMP_CURRENT, BASECAMP_CURRENT_V2
from .github import GITHUB, GITHUB_OLDER
from .google import GOOGLE_WORKSPACE, GOOGLE_WORKSPACE_V1
from .microsoft import MICROSOFT_365, MICROSOFT_365_V1
from .slack import SLACK, SLACK_V1

# slug -> versions, oldest first: (title, rules).
EXAMPLE_POLICIES: dict[str, tuple[tuple[str, PolicyRules], ...]] = {
    "example-slack": (
        ("Slack Fair Billing and plan changes (example)", SLACK_V1),
        ("Slack Fair Billing with seats (example)", SLACK),
    ),
    "example-adobe": (("Adobe Creative Cloud subscription terms (example)", ADOBE),),
    "example-atlassian": (("Atlassian Cloud refunds (example)", ATLASSIAN),),
    "example-github": (
        ("GitHub billing, older text (example)", GITHUB_OLDER),
        ("GitHub billing, current text (example)", GITHUB),
    ),
    "example-microsoft-365": (
        ("Microsoft 365 consumer refunds (example)", MICROSOFT_365_V1),
        ("Microsoft 365 consumer refunds, German purchase date (example)", MICROSOFT_365),
    ),
    "example-basecamp": (
        ("Basecamp classic refund policy (example)", BASECAMP_CLASSIC),
        ("Basecamp / HEY current refund policy (example)", BASECAMP_CURRENT_V2),
        ("Basecamp / HEY current refund policy, annual months (example)", BASECAMP_CURRENT),
    ),
    "example-google-workspace": (
        ("Google Workspace cancellation (example)", GOOGLE_WORKSPACE_V1),
        ("Google Workspace cancellation with seats (example)", GOOGLE_WORKSPACE),
    ),
}

__all__ = [
    "ADOBE",
    "ATLASSIAN",
    "BASECAMP_CLASSIC",
    "BASECAMP_CURRENT",
    "BASECAMP_CURRENT_V2",
    "EXAMPLE_POLICIES",
    "GITHUB",
    "GITHUB_OLDER",
    "GOOGLE_WORKSPACE",
    "GOOGLE_WORKSPACE_V1",
    "MICROSOFT_365",
    "MICROSOFT_365_V1",
    "SLACK",
    "SLACK_V1",
]
