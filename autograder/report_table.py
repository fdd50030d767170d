"""The report's student × assignment table: sortable (click a header), filtered (a box) and
paged (100 rows a page), by a few lines of inline JavaScript over the rows as JSON; no network,
so report.html stays one file and usable at thousands of students."""
from __future__ import annotations

import html
import json

from .record import GRADED
from .tables import number
from .totals import Term

SCRIPT = """<script>(function(){
const d=JSON.parse(document.getElementById('tt-data').textContent),N=100;
let rows=d.rows,page=0,col=0,dir=1;
const q=document.getElementById('tt-filter'),b=document.getElementById('tt-body'),
i=document.getElementById('tt-info');
function show(){const f=q.value.toLowerCase();
rows=d.rows.filter(r=>r.join(' ').toLowerCase().includes(f));
rows.sort((x,y)=>{const a=x[col],c=y[col],p=parseFloat(a),n=parseFloat(c);
return dir*((isNaN(p)||isNaN(n))?String(a).localeCompare(String(c)):p-n);});
const pages=Math.max(1,Math.ceil(rows.length/N));page=Math.min(page,pages-1);
b.innerHTML='';for(const r of rows.slice(page*N,page*N+N)){const t=b.insertRow();
for(const c of r){t.insertCell().textContent=c;}}
i.textContent=`${rows.length} of ${d.rows.length} students, page ${page+1} of ${pages}`;}
document.querySelectorAll('#tt th').forEach((h,k)=>h.onclick=()=>{dir=col===k?-dir:1;col=k;show();});
q.oninput=()=>{page=0;show();};
document.getElementById('tt-prev').onclick=()=>{page=Math.max(0,page-1);show();};
document.getElementById('tt-next').onclick=()=>{page++;show();};show();})();</script>"""


def _cell(term: Term, sid: str, aid: str) -> str:
    row = term.rows.get((sid, aid))
    if row is None:
        return ""
    if row.status != GRADED:
        return row.status
    text = number(term.points(sid, aid))
    return text + (f" (late, -{number(row.penalty)})" if row.late and row.penalty else
                   " (late)" if row.late else "")


def term_table(term: Term) -> str:
    """The section's HTML: heading, filter box, pager, table and its script."""
    header = ["student", "name", "total", *term.assignments]
    data = [[s, term.name(s), number(term.total(s)), *(_cell(term, s, a) for a in term.assignments)]
            for s in term.students]
    # JSON inside <script>: "</" must not close the element
    blob = json.dumps({"rows": data}).replace("</", "<\\/")
    head = "".join(f"<th style='cursor:pointer'>{html.escape(h)} &#8597;</th>" for h in header)
    return (f"<h2>Students × assignments ({len(data)})</h2>"
            "<p>Points after late penalties, written answers included when graded; click a "
            "header to sort.</p>"
            "<input id='tt-filter' placeholder='filter (id, name, status…)' size='30'> "
            "<button id='tt-prev'>&#8592;</button> <button id='tt-next'>&#8594;</button> "
            "<span id='tt-info'></span>"
            f"<table id='tt'><thead><tr>{head}</tr></thead><tbody id='tt-body'></tbody></table>"
            f"<script type='application/json' id='tt-data'>{blob}</script>{SCRIPT}")
