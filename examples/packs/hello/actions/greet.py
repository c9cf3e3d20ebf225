import humanize
from st2common.runners.base_action import Action


class GreetAction(Action):
    def run(self, name, seconds_ago=90):
        return "Hello, {}! That was {} ago.".format(name, humanize.naturaldelta(seconds_ago))
