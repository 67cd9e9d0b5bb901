"""python -m mbcost"""

from .cli import main

main(prog_name="mbcost")
