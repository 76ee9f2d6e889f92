"""The topic query language: arXiv's search syntax, evaluated locally with a person's tolerance.

Syntax (as in arXiv's API):
- field prefixes `ti:` title, `abs:` abstract, `au:` authors, `co:` comments, `cat:` category,
  `all:`; a bare term means `all:`, which here searches the title, the abstract and the comments
  (not authors or categories, so `lora` does not catch a paper by Lora Aroyo: use `au:`/`cat:`);
- words (`LoRA`, `low-rank`), `"quoted phrases"`, and a trailing wildcard (`ti:quantiz*`,
  `cat:cs.*`); `au:hinton_g` and `au:"geoffrey hinton"` match an author's name in any order, a
  one-letter word matching an initial;
- operators `AND`, `OR`, `ANDNOT`, upper case only, binary and left-associative; AND and ANDNOT
  bind tighter than OR (`a OR b AND c` = `a OR (b AND c)`); parentheses group, and a prefix may
  apply to a group (`ti:(lora OR dora)`). Lower-case `and`/`or` are ordinary words, and two terms
  with no operator between them are an error (quote a phrase instead).

Matching (see `matcher`): case-insensitive; plural and singular alike; `low-rank` = `low rank`
= `lowrank`; LaTeX and punctuation ignored; phrases match across punctuation but not across the
end of a sentence. `query.match(Doc.from_paper(p))` returns the hits, or None.
"""

from arxivwatch.query.doc import Doc
from arxivwatch.query.parser import parse
from arxivwatch.query.tree import FIELDS, And, AndNot, Or, Query, Term

__all__ = ["FIELDS", "And", "AndNot", "Doc", "Or", "Query", "Term", "parse"]
