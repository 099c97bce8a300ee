"""Type checking of aggregates and window functions (see ir.AggNode for the modes)."""

from __future__ import annotations

from dsl import astnodes as ast
from dsl import ir
from dsl.diagnostics import did_you_mean
from dsl.primitives import check_arity, lookup
from dsl.primitives.registry import PrimitiveTypeError
from dsl.scope import Frame
from dsl.types import comparable


def _entity_heads(node: ast.Node, entities: set[str], out: set[str]) -> None:
    if isinstance(node, ast.Attr):
        base = node.base
        while isinstance(base, ast.Attr):
            base = base.base
        if isinstance(base, ast.Name) and base.name in entities:
            out.add(base.name)
        if isinstance(base, ast.Index):
            _entity_heads(base, entities, out)
        return
    for value in vars(node).values():
        if isinstance(value, ast.Node):
            _entity_heads(value, entities, out)
        elif isinstance(value, list):
            for v in value:
                if isinstance(v, ast.Node):
                    _entity_heads(v, entities, out)
                elif isinstance(v, tuple):
                    for w in v:
                        if isinstance(w, ast.Node):
                            _entity_heads(w, entities, out)


def _refs_outer(node: ir.IR | None, depth: int) -> bool:
    if node is None:
        return False
    for x in ir.walk(node):
        if isinstance(x, (ir.FieldRef, ir.ParamRef, ir.Lookup)) and 0 <= x.frame < depth:
            if isinstance(x, ir.FieldRef):
                return True
        if isinstance(x, ir.AggNode) and x is not node and _refs_outer_agg(x, depth):
            return True
    return False


def _refs_outer_agg(node: ir.AggNode, depth: int) -> bool:
    return any(_refs_outer(k, depth) for k in node.keys_cur)


def check_aggregate(ck, n: ast.Call) -> ir.IR:
    from dsl.typecheck import WINDOWS

    window = n.func in WINDOWS
    prim = lookup(n.func, "window" if window else "aggregate")
    err = check_arity(prim, len(n.args))
    if err:
        raise ck.fail("E0203", err, n)
    scope = ck.scope
    cf = scope.bare_frame()
    cur = scope.frames[cf].entity
    entities = set(ck.symbols.entities)

    # -- which rows are aggregated --
    counts_rows = n.func in ("count", "rank")
    if counts_rows:
        head = n.args[0]
        if not isinstance(head, ast.Name) or head.name not in entities:
            raise ck.fail("E0210", f"{n.func}(…) считает строки сущности: укажите её имя, например {n.func}(case …)",
                          head, hints=did_you_mean(getattr(head, "name", ""), list(entities)))
        source = head.name
    elif window:
        source = cur
    else:
        heads: set[str] = set()
        _entity_heads(n.args[0], entities, heads)
        if cur is not None:
            heads.discard(cur) if len(heads) > 1 else None
        heads = {h for h in heads if scope.frame_for_prefix(h) is None or h == cur}
        if len(heads) > 1:
            raise ck.fail("E0210", f"агрегат смешивает строки разных сущностей: {', '.join(sorted(heads))}", n.args[0])
        source = heads.pop() if heads else cur
    if source is None:
        raise ck.fail("E0210", "не указано, по каким строкам агрегировать: назовите сущность, например sum(case.x)", n)

    # -- mode --
    src_info = ck.symbols.entities[source]
    relation = None
    if n.alias is not None:
        if n.by is None:
            raise ck.fail("E0210", "агрегат с «as» сравнивает строки попарно — укажите ключ группы «by»", n)
        mode, frame = "pair", Frame(source, n.alias, False)
    elif cur is None:
        if n.by is not None:
            raise ck.fail("E0210", "ключ «by» имеет смысл только внутри блока «for сущность»", n.by[0])
        mode, frame = "all", Frame(source, None, True)
    elif source == cur and not any(k.right is not None for k in n.by or []):
        mode, frame = "group", Frame(source, None, True)
    elif source == cur:
        # `by a = b` compares the rows' a with the current row's b: a keyed match, not a grouping
        mode, frame = "keyed", Frame(source, None, False)
    elif n.by is not None:
        mode, frame = "keyed", Frame(source, None, False)
    else:
        rels = [r for r, t in src_info.relations.items() if t == cur]
        if rels:
            mode, relation, frame = "child", rels[0], Frame(source, None, False)
        else:
            mode, frame = "all", Frame(source, None, False)
    if window and mode != "group":
        raise ck.fail("E0210", f"{n.func} вычисляется по строкам текущей сущности «{cur}»", n)

    # -- keys --
    keys_src: list[ir.IR] = []
    keys_cur: list[ir.IR] = []
    for key in n.by or []:
        scope.push(Frame(source, None, True))
        try:
            ks = ck.require_present(ck.check(key.left), key.left)
        finally:
            scope.pop()
        if mode == "group":
            # the same expression read on the current row (used by explain and subset frames)
            kc = ck.require_present(ck.check(key.left), key.left)
        else:
            kc = ck.require_present(ck.check(key.right if key.right is not None else key.left),
                                    key.right or key.left)
        if not comparable(ks.type, kc.type):
            raise ck.fail("E0211", f"ключ сравнивает {ks.type} с {kc.type}", key)
        if ks.type.kind != kc.type.kind and ks.type.kind in ("int", "number") and kc.type.kind in ("int", "number"):
            ks, kc = ck.to_float(ks), ck.to_float(kc)
        keys_src.append(ks)
        keys_cur.append(kc)

    # -- value, where, order in the source frame --
    scope.push(frame)
    depth = scope.depth
    try:
        value = None
        args: list[ir.IR] = []
        if not counts_rows and not window:
            value = ck.check(n.args[0])
        if window and n.func in ("distribute", "running_sum"):
            args = [ck.check(a) for a in n.args]
        where = ck.require(ck.check(n.where), ("bool",), n.where, "условие «where»") if n.where else None
        order = None
        if n.order is not None:
            order = ck.require(ck.check(n.order), ("int", "number", "money", "date"), n.order, "ключ «order by»")
    finally:
        scope.pop()
    if n.func in ("first", "last", "rank", "running_sum") and order is None:
        raise ck.fail("E0210", f"{n.func}(…) требует порядка: добавьте «order by …»", n)

    if mode in ("keyed", "all") and any(_refs_outer(x, depth) for x in (value, where, order)):
        if mode == "all":
            raise ck.fail("E0210", "условие агрегата ссылается на текущую строку — укажите ключ группы «by»",
                          n.where or n)
        mode = "pair"

    never_empty = mode == "group" and where is None
    try:
        if window:
            if n.func in ("distribute", "running_sum"):
                for a, node in zip(args, n.args, strict=True):
                    if a.type.optional and (n.func == "running_sum" or node is not n.args[-1]):
                        ck.require_present(a, node)
                result_type = prim.typer([a.type for a in args], [never_empty])
            else:
                result_type = prim.typer([], [never_empty])
        elif counts_rows:
            result_type = prim.typer([], [never_empty])
        else:
            if value.type.optional:
                ck.require_present(value, n.args[0])
            result_type = prim.typer([value.type], [never_empty])
    except PrimitiveTypeError as e:
        raise ck.fail(e.code, f"{n.func}: {e.message}", n.args[e.arg] if e.arg is not None and n.args else n,
                      hints=[f"сигнатура: {prim.signature}"]) from None
    return ir.AggNode(result_type, n.span, prim, source, mode, value, args, keys_src, keys_cur, where, order,
                      n.order_desc, relation, cf)
