"""The explorer: `adasim explore` (a page served on 127.0.0.1), `adasim explore --export DIR`
(a static page with precomputed views) and `adasim.explore()` (a Jupyter widget), all drawing
what `adasim.explorer.view` computes."""
