"""The model: a validated scenario compiled into plan tensors (``compile``, ``plan``), the declaration of
its flows (``flows``) and its mean-field projection (``expected``). Levers transform the plan tensors;
engines sample them."""
