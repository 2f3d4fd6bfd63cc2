"""`careerload import k6`: a k6 script -> a careerload scenario and a declarative persona.

One module per concern: `syntax` (tree-sitter parse, constant evaluation),
`options` (options -> load shape), `requests` (the iteration function ->
weighted tasks of requests, checks and think time), `thresholds`
(options.thresholds -> `[k6.thresholds]`), `untranslatable` (what has no
equivalent, with line numbers), `write` (the two files) and `translate`
(the steps in order). Needs the `k6import` extra (tree-sitter and its
JavaScript grammar); nothing else in careerload imports this package.
"""
