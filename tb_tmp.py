import time, sys, cProfile, pstats
sys.path.insert(0, '.')
from engine.compiler import compile_package
from engine.dataset import bind
from engine.evaluator import Evaluator
from tests.grouper.generate import month
m = compile_package("methodologies/federal/2026")
raw, _, _ = month(1000000, 1)
data = bind(m.entities, raw)
ev = Evaluator(m, data)
pr = cProfile.Profile(time.process_time)
c0=time.process_time()
pr.enable()
ev.data.entities["ksg_candidate"]
c1=time.process_time()
ev.column("sl","ksg_grouped"); ev.column("sl","ksg_grouped_cost")
pr.disable()
c2=time.process_time()
print("join cpu", c1-c0, "choice cpu", c2-c1)
p=pstats.Stats(pr); p.sort_stats('tottime').print_stats(30)
p.sort_stats('cumulative').print_stats(60)
