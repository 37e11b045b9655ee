"""Two of the papers' pictures, drawn from our vectors: 2013b Figure 2 and 2013a Table 8.

  picture_data(words, vectors_VxD)  what both need, small enough for a run's record: the
                                    2-D PCA of Figure 2's countries and capitals, and our
                                    top answer to each of Table 8's questions
  figure2(png, data, title)         countries and capitals, an arrow from each country to
                                    its capital (w2v_jax/plots.py's word map)
  table8(data)                      Table 8 as markdown, our answer next to the paper's

Kept in the record (not the vectors, which live in a scratch folder for the run's length),
so the pictures are redrawn from records without training again. Words are looked up in
lower case, as offline-prose and the default corpus hold them.
"""

import numpy as np

from w2v_jax import metrics
from w2v_jax import plots

# Mikolov et al. 2013b, Figure 2: "Two-dimensional PCA projection of the 1000-dimensional
# Skip-gram vectors of countries and their capital cities".
FIGURE2_PAIRS = (("china", "beijing"), ("russia", "moscow"), ("japan", "tokyo"),
                 ("turkey", "ankara"), ("poland", "warsaw"), ("germany", "berlin"),
                 ("france", "paris"), ("italy", "rome"), ("greece", "athens"),
                 ("spain", "madrid"), ("portugal", "lisbon"))
# Mikolov et al. 2013a, Table 8: for a relationship a - b, three questions "a is to b as
# c is to ?" and the answer the paper's best vectors gave (skip-gram, 300 dimensions,
# 783M words), right or wrong as printed there (small: larger, uranium: plutonium); checked
# against the text of arXiv:1301.3781v3.
TABLE8 = (
    ("france", "paris", (("italy", "rome"), ("japan", "tokyo"), ("florida", "tallahassee"))),
    ("big", "bigger", (("small", "larger"), ("cold", "colder"), ("quick", "quicker"))),
    ("miami", "florida", (("baltimore", "maryland"), ("dallas", "texas"), ("kona", "hawaii"))),
    ("einstein", "scientist", (("messi", "midfielder"), ("mozart", "violinist"),
                               ("picasso", "painter"))),
    ("sarkozy", "france", (("berlusconi", "italy"), ("merkel", "germany"),
                           ("koizumi", "japan"))),
    ("copper", "cu", (("zinc", "zn"), ("gold", "au"), ("uranium", "plutonium"))),
    ("berlusconi", "silvio", (("sarkozy", "nicolas"), ("putin", "medvedev"),
                              ("obama", "barack"))),
    ("microsoft", "windows", (("google", "android"), ("ibm", "linux"), ("apple", "iphone"))),
    ("microsoft", "ballmer", (("google", "yahoo"), ("ibm", "mcnealy"), ("apple", "jobs"))),
    ("japan", "sushi", (("germany", "bratwurst"), ("france", "tapas"), ("usa", "pizza"))),
)


def picture_data(words, vectors_VxD) -> dict:
  """Figure 2's coordinates and Table 8's answers from one run's vectors (whole vocabulary).

  Figure 2 keeps the pairs whose two words the vocabulary has, projected together (PCA of
  those words only, as the paper's figure). Table 8's answer is the nearest word to
  b - a + c (3CosAdd of unit vectors, a, b and c left out, as the analogy evaluation), or
  None where a, b or c is not in the vocabulary.
  """
  table = metrics.lookup_table(words, case_insensitive=False)
  pairs = [pair for pair in FIGURE2_PAIRS if all(w in table for w in pair)]
  labels = [w for pair in pairs for w in pair]
  points_Nx2 = (plots.project(np.asarray(vectors_VxD, np.float64)[[table[w] for w in labels]])
                if len(labels) >= 2 else np.zeros((0, 2)))
  questions = [(a, b, c) for a, b, examples in TABLE8 for c, _ in examples]
  asked = [q for q in questions if all(w in table for w in q)]
  rows_Qx4 = np.array([[table[w] for w in q] + [table[q[2]]] for q in asked], np.int64)
  answers = (metrics.predict_analogies(metrics.unit_rows(vectors_VxD), list(words), rows_Qx4)
             if asked else [])
  found = dict(zip(asked, answers))
  return {"figure2": {"labels": labels, "points": np.round(points_Nx2, 4).tolist(),
                      "pairs": [list(p) for p in pairs],
                      "missing": [w for p in FIGURE2_PAIRS for w in p if w not in table]},
          "table8": [found.get(q) for q in questions]}


def figure2(png: str, data: dict, title: str) -> str:
  """The countries-and-capitals picture from picture_data's coordinates."""
  figure = data["figure2"]
  if len(figure["labels"]) < 2:
    return ""
  return plots.word_map(figure["labels"], figure["points"], figure["pairs"], png, title)


def table8(data: dict) -> str:
  """Table 8 with our answer to each question and, in brackets, the paper's."""
  answers = iter(data["table8"])
  lines = ["| relationship | example 1 | example 2 | example 3 |", "|---|---|---|---|"]
  same = asked = 0
  for a, b, examples in TABLE8:
    cells = []
    for c, paper in examples:
      ours = next(answers)
      asked += ours is not None
      same += ours == paper
      cells.append(f"{c}: {'**' + ours + '**' if ours == paper else ours or '-'} ({paper})")
    lines.append(f"| {a} - {b} | " + " | ".join(cells) + " |")
  total = sum(len(examples) for _, _, examples in TABLE8)
  return ("\n".join(lines) + f"\n\nOurs, then the paper's answer in brackets; bold where they "
          f"agree ({same} of the {asked} questions our vocabulary can ask, of {total}); '-' "
          "where a, b or c is not in our vocabulary.")
